/**
 * What data-parallel training (ParallelTrainable) needs from a model, so that src/parallel
 * depends on this contract and not on a particular model (src/pretrain's RtdTrainable
 * implements it): the whole micro-batch's masks, the gradient of some rows' share of the global
 * objective, and how a worker thread builds an identical replica.
 */
import type {Batch} from '../data/batch-iterator.js'
import type {MaskedBatch} from '../data/masking.js'
import type {LossAndGrads, LossContext, Trainable} from '../train/trainable.js'

/** Some rows of a micro-batch, masked, with the weights that make shares add up to the whole. */
export interface RowShare {
  /** The share's rows ([b·N] arrays, batchSize b). */
  batch: Batch
  /** maskFor(whole batch) restricted to the same rows. */
  masked: MaskedBatch
  /** Global index of the share's first row (keys the replacement samples). */
  rowOffset: number
  /** Share's masked tokens / the batch's (1 for the whole batch). */
  mlmScale: number
  /** Share's non-pad tokens / the batch's. */
  rtdScale: number
}

/**
 * How a worker builds a replica: `module` (a file URL) exports `createReplica(options)`, which
 * returns a ShardableTrainable; `options` must survive structured cloning.
 */
export interface ReplicaRecipe {
  module: string
  options: unknown
}

export interface ReplicaModule {
  createReplica(options: unknown): ShardableTrainable | Promise<ShardableTrainable>
}

export interface ShardableTrainable extends Trainable<Batch> {
  /** The masks of the whole micro-batch (derived from ctx, so every replica agrees). */
  maskFor(batch: Batch, ctx: Pick<LossContext, 'step' | 'microBatch'>): MaskedBatch
  /** Gradients of the share's part of the whole batch's objective. */
  computeShare(share: RowShare, ctx: LossContext): Promise<LossAndGrads>
  replicaRecipe(): ReplicaRecipe
}

export function isShardable(x: unknown): x is ShardableTrainable {
  const t = x as Partial<ShardableTrainable> | null
  return typeof t === 'object' && t !== null && typeof t.maskFor === 'function' && typeof t.computeShare === 'function' && typeof t.replicaRecipe === 'function'
}

/** URL of the module `name` beside `importMetaUrl`, with the caller's extension (.ts under tsx, .js when built). */
export function siblingModule(name: string, importMetaUrl: string): string {
  return new URL(`./${name}${importMetaUrl.endsWith('.ts') ? '.ts' : '.js'}`, importMetaUrl).href
}
