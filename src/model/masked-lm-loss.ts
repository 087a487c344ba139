/**
 * The training-step half every masked LM shares (the DeBERTa MlmModel and the ELECTRA
 * ElectraMlmModel): the MLM loss of one batch at its masked positions, and which layers a step of
 * the model alone recomputes.
 */
import * as tf from '#tfjs'
import {autoRecompute, type EncoderShape} from '../runtime/memory-estimate.js'
import type {EncoderOutput, MaskedLmLossOptions} from './architecture.js'
import {mlmLoss} from './losses.js'
import {maskedPositions} from './masked-positions.js'
import {tidy, type ForwardContext, type Recompute} from './nn.js'

export type {MaskedLmLossOptions}

/** What maskedLmLoss needs of a model. */
export interface MaskedLm<E extends EncoderOutput> {
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; positions: tf.Tensor1D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): {encoder: E; logits: tf.Tensor2D}
  /** The output bias: the zero loss of a batch without masked tokens is tied to it. */
  readonly head: {readonly bias: tf.Variable}
  recomputes(batch: number, seqLen: number): Recompute
}

/**
 * The MLM loss of one batch, usable inside tf.variableGrads / optimizer.minimize. Tensors other
 * than `loss` live in the caller's tidy scope unless `keep` is set (then dispose them).
 */
export function maskedLmLoss<E extends EncoderOutput>(model: MaskedLm<E>, opts: MaskedLmLossOptions): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: E} {
  const {batch: B, seqLen: N} = opts
  const positions = maskedPositions(opts.mlmMask)
  if (positions.length !== opts.labels.length) throw new Error(`mlmMask has ${positions.length} masked positions but labels has ${opts.labels.length}`)
  // ctx.recompute unset: 'auto' as RtdPair (and the mlm stage's memory check) decide it
  const ctx: ForwardContext = opts.ctx.recompute === undefined ? {...opts.ctx, recompute: model.recomputes(B, N)} : opts.ctx
  const out = tidy(() => {
    const fwd = model.forward({
      inputIds: tf.tensor2d(opts.maskedInputIds, [B, N], 'int32'),
      mask: tf.tensor2d(Float32Array.from(opts.attentionMask), [B, N], 'float32'),
      positions: tf.tensor1d(positions, 'int32'),
      tokenTypeIds: opts.tokenTypeIds ? tf.tensor2d(opts.tokenTypeIds, [B, N], 'int32') : undefined,
      ctx,
    })
    // No masked token in the batch: L_MLM = 0 (not the NaN of an empty mean), still tied to a
    // parameter so that tf.variableGrads finds a (zero) gradient.
    const loss = positions.length === 0 ? (tf.mul(tf.sum(model.head.bias), 0) as tf.Scalar) : mlmLoss({logits: fwd.logits, labels: tf.tensor1d(opts.labels, 'int32')})
    return {loss, logits: fwd.logits, encoder: fwd.encoder}
  })
  if (opts.keep) for (const t of [out.logits, ...out.encoder.hiddenStates, ...(out.encoder.extra ?? [])]) tf.keep(t)
  return out
}

/**
 * Which layers a training step of a masked LM alone recomputes when the caller's ctx does not
 * say: on wasm all of them when the step would crowd the heap (memory-estimate.ts, with the
 * shapes the mlm stage's memory check uses), else every other one where that saves memory
 * (autoRecompute); RTD_RECOMPUTE=on|off|alternate overrides.
 */
export function maskedLmRecompute(shape: EncoderShape, batch: number, seqLen: number): Recompute {
  const env = process.env['RTD_RECOMPUTE']
  if (env === 'on' || env === 'off') return env === 'on'
  if (env === 'alternate') return 'alternate'
  return autoRecompute({discriminator: {...shape, layers: 1}, generator: shape, batch, seqLen, sharing: 'es'}, tf.getBackend())
}
