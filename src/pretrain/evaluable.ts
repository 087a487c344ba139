/**
 * What the evaluation stage needs from a model stage's model: per-batch host outputs, with the
 * masks and samples derived from (seed, batch index) so that two evaluations of the same
 * weights give the same numbers (SPEC A.8).
 */
import type {Batch} from '../data/batch-iterator.js'

export interface EvalBatchOutput {
  /** Discriminator logits/labels over [B·N]; mask = attention mask (all non-pad tokens). */
  discriminator?: {logits: Float32Array; labels: Int32Array; mask: Int32Array}
  /** Generator, per masked token: CE loss, top-1 prediction, original id, sampled replacement. */
  generator?: {losses: Float32Array; predicted: Int32Array; original: Int32Array; sampled?: Int32Array}
}

export interface Evaluable {
  evaluateBatch(batch: Batch, opts: {seed: number; index: number}): EvalBatchOutput
}

export function isEvaluable(x: unknown): x is Evaluable {
  return typeof x === 'object' && x !== null && typeof (x as Evaluable).evaluateBatch === 'function'
}
