/**
 * The ELECTRA discriminator's RTD head (HF ElectraDiscriminatorPredictions), names
 * `discriminator_predictions.{dense,dense_prediction}`: logit_i = dense_prediction(gelu(dense(h_i))),
 * no LayerNorm and no [CLS] term (unlike DeBERTa-v3's mask_predictions).
 */
import * as tf from '#tfjs'
import {gelu, linear, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import type {ElectraConfig} from './config.js'

export class ElectraDiscriminatorHead {
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore}) {
    const {config: c, params: p} = opts
    const H = c.hiddenSize
    this.w = {
      denseW: p.create('discriminator_predictions.dense.weight', [H, H], 'normal', {head: 'RTD head'}),
      denseB: p.create('discriminator_predictions.dense.bias', [H], 'zeros', {head: 'RTD head'}),
      predW: p.create('discriminator_predictions.dense_prediction.weight', [1, H], 'normal', {head: 'RTD head'}),
      predB: p.create('discriminator_predictions.dense_prediction.bias', [1], 'zeros', {head: 'RTD head'}),
    }
  }

  /** @param h [B·N, H] last hidden states. Returns one logit per token, [B, N]. */
  apply(opts: {h: tf.Tensor2D; batch: number; seqLen: number; ctx: ForwardContext}): tf.Tensor2D {
    const w = this.w
    return tf.tidy(() => {
      const u = gelu(linear(opts.h, w.denseW, w.denseB), opts.ctx) as tf.Tensor2D // [B·N, H]
      return tf.reshape(linear(u, w.predW, w.predB), [opts.batch, opts.seqLen]) // [B, N]
    })
  }
}
