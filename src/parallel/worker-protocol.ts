/**
 * Messages between the coordinator (ParallelTrainable) and a replica worker (replica-worker.ts).
 * Weights and gradients travel through SharedArrayBuffers laid out by flat-layout.ts; messages
 * carry only the rows, the loss context and host numbers.
 */
import type {Batch} from '../data/batch-iterator.js'
import type {MaskedBatch} from '../data/masking.js'
import type {BackendChoice, BackendInfo, NativeChoice} from '../runtime/backend.js'
import type {LossContext} from '../train/trainable.js'
import type {ReplicaRecipe} from './shardable.js'

/** What a worker needs to build a replica identical to the coordinator's. */
export interface ReplicaSpec {
  /** How to build the model replica (the coordinator trainable's replicaRecipe()). */
  replica: ReplicaRecipe
  runtime: {backend: BackendChoice; native: NativeChoice; threads: number}
  /** layoutFingerprint of the coordinator's parameter groups. */
  fingerprint: string
  /** float32 [layout.total]: the coordinator's weights (written before a compute with sync). */
  weights: SharedArrayBuffer
  /** float32 [layout.total]: this worker's gradients. */
  grads: SharedArrayBuffer
}

export type ToWorker =
  | {type: 'init'; spec: ReplicaSpec}
  | {
      type: 'compute'
      id: number
      /** Copy the weights buffer into the replica's variables first. */
      sync: boolean
      batch: Batch
      masked: MaskedBatch
      rowOffset: number
      mlmScale: number
      rtdScale: number
      ctx: LossContext
    }

export type FromWorker =
  | {type: 'ready'; backend: BackendInfo}
  | {
      type: 'computed'
      id: number
      losses: Record<string, number>
      tokens: number
      /** entryKey(group, name) of each gradient written to the grads buffer. */
      present: string[]
      ms: number
    }
  | {type: 'error'; id?: number; message: string; stack?: string}
