/**
 * What the generic trainer (trainer.ts) needs from a model and from the data, so that the
 * gdes/mlm model plugins and the data stage can plug in without the trainer knowing DeBERTa.
 */
import type * as tf from '#tfjs'
import type {LossWeights} from './loss-weight.js'

/**
 * `joint`: one optimizer over every group, one backward of L = w_mlm·L_MLM + λ·L_RTD per
 * micro-batch (SPEC A.6 default). `decoupled`: one optimizer per group; each step runs one
 * phase per group, in `parameterGroups()` order (generator first), and applies that phase's
 * update before the next phase runs (Microsoft's official order, SPEC B.6.3).
 */
export {TRAINING_MODES as TRAINING_ORDERS} from '../config/enums.js'
export type {TrainingMode as TrainingOrder} from '../config/enums.js'

export interface ParameterGroup {
  /** e.g. `generator`, `discriminator`. Unique. */
  name: string
  /** Trainable variables by (Hugging Face) name; names decide weight decay (see adamw.ts). */
  variables: Map<string, tf.Variable>
}

export interface LossContext {
  /** Updates applied before this one (0 for the first step). Derive masks/samples from (seed, step, microBatch). */
  step: number
  weights: LossWeights
  training: true
  /**
   * Groups whose gradients are wanted. Joint: every group. Decoupled: one group; in a
   * discriminator phase the generator has already been updated for this step, and the
   * batches come again in the same order with the same `microBatch` indices, so a model can
   * reuse what it sampled in the generator phase (keyed by `microBatch`).
   */
  groups: string[]
  /** Index of the micro-batch within the step, 0..k−1 for k-step gradient accumulation. */
  microBatch: number
}

export interface LossAndGrads {
  /**
   * group name -> variable name -> gradient, for the groups asked for (a variable may be
   * absent: it is then not updated). Ownership passes to the trainer, which disposes them.
   */
  grads: Map<string, Map<string, tf.Tensor>>
  /**
   * Host numbers. `loss` is the objective that was differentiated (weights applied); other
   * keys are unweighted terms, e.g. `mlm`, `rtd` (logged as `loss_mlm`, `loss_rtd`).
   */
  losses: Record<string, number>
  /** Tokens in the micro-batch (non-pad), for tokens/s. */
  tokens: number
}

export interface Trainable<B> {
  parameterGroups(): ParameterGroup[]
  computeLossAndGrads(batch: B, ctx: LossContext): LossAndGrads | Promise<LossAndGrads>
  /** JSON-serialisable state outside the variables that resume needs (e.g. a non-derived RNG). */
  getState?(): unknown
  setState?(state: unknown): void
}

/** Batches of one epoch, in order, from a resumable position. */
export interface BatchIterator<B> {
  /** The next micro-batch, or null at the end of the epoch (and on every call after it). */
  next(): B | null | Promise<B | null>
  /** Opaque JSON saying where the iterator is (after the last batch returned). */
  position(): unknown
}

export interface BatchSource<B> {
  /** Micro-batches per epoch when known (needed for warmup_linear with `epochs`, and for ETA). */
  readonly batchesPerEpoch?: number
  /** Open epoch `epoch` (0-based) at its start, or at `position` from `BatchIterator.position`. */
  open(opts: {epoch: number; position?: unknown}): BatchIterator<B>
}
