/** A data-parallel worker's RtdTrainable (ReplicaModule of src/parallel, named by RtdTrainable.replicaRecipe). */
import {RtdPair} from '../model/rtd-pair.js'
import type {ArchitectureNetworks} from '../plugin/architecture.js'
import {RtdTrainable, type RtdReplicaOptions} from './rtd-trainable.js'

/** Builds the replica with the coordinator's architecture, loaded from the module URL the recipe carries. */
export async function createReplica(options: unknown): Promise<RtdTrainable> {
  const o = options as RtdReplicaOptions
  const architecture = ((await import(o.pair.architecture)) as {architecture: ArchitectureNetworks}).architecture
  return new RtdTrainable({...o.trainable, pair: new RtdPair({...o.pair, architecture})})
}
