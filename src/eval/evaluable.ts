/**
 * What the evaluation stage needs from a model stage's model: per-batch host outputs, with the
 * masks and samples derived from (seed, batch index) so that two evaluations of the same
 * weights give the same numbers (SPEC A.8).
 */
import type {Batch} from '../data/batch-iterator.js'

export interface EvalBatchOutput {
  /** Discriminator logits/labels over [B·N]; mask = attention mask (all non-pad tokens). */
  discriminator?: {
    logits: Float32Array
    labels: Int32Array
    mask: Int32Array
    /** What the discriminator read (the generator's samples at masked positions), for the samples view. */
    discInputIds?: Int32Array
    /** The generator's mask (1 = masked position). */
    mlmMask?: ArrayLike<number>
  }
  /** Generator, per masked token: CE loss, top-1 prediction, original id, sampled replacement. */
  generator?: {losses: Float32Array; predicted: Int32Array; original: Int32Array; sampled?: Int32Array}
}

export interface Evaluable {
  /** A promise where the backend reads asynchronously (webgpu). */
  evaluateBatch(batch: Batch, opts: {seed: number; index: number}): EvalBatchOutput | Promise<EvalBatchOutput>
}

/** A model that can report its embedding tables' state and gradient routing (rtd-trainable.ts). */
export interface EmbeddingDiagnosable {
  embeddingDiagnostics(batch: Batch, opts: {seed: number}): Record<string, number> | Promise<Record<string, number>>
}

export function hasEmbeddingDiagnostics(x: unknown): x is EmbeddingDiagnosable {
  return typeof x === 'object' && x !== null && typeof (x as EmbeddingDiagnosable).embeddingDiagnostics === 'function'
}

export function isEvaluable(x: unknown): x is Evaluable {
  return typeof x === 'object' && x !== null && typeof (x as Evaluable).evaluateBatch === 'function'
}
