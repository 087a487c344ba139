/**
 * Discriminator RTD head of DeBERTa-v3 (SPEC B.3.2a; Microsoft LMMaskPredictionHead), names
 * `mask_predictions.*`: logit_i = classifier(gelu(dense(LayerNorm(h_i + h_0)))), where h_0 is
 * the [CLS] state of the same sequence. The LayerNorm comes first.
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {gelu, layerNorm, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'

export class RtdHead {
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix?: string}) {
    const {config: c, params: p} = opts
    const prefix = opts.prefix ?? 'mask_predictions'
    const H = c.hiddenSize
    this.w = {
      lnW: p.create(`${prefix}.LayerNorm.weight`, [H], 'ones', {head: 'RTD head'}),
      lnB: p.create(`${prefix}.LayerNorm.bias`, [H], 'zeros', {head: 'RTD head'}),
      denseW: p.create(`${prefix}.dense.weight`, [H, H], 'normal', {head: 'RTD head'}),
      denseB: p.create(`${prefix}.dense.bias`, [H], 'zeros', {head: 'RTD head'}),
      clsW: p.create(`${prefix}.classifier.weight`, [1, H], 'normal', {head: 'RTD head'}),
      clsB: p.create(`${prefix}.classifier.bias`, [1], 'zeros', {head: 'RTD head'}),
    }
  }

  /** @param h [B·N, H] last hidden states. Returns one logit per token, [B, N]. */
  apply(opts: {h: tf.Tensor2D; batch: number; seqLen: number; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {batch: B, seqLen: N} = opts
    const w = this.w
    return tf.tidy(() => {
      const h3 = tf.reshape(opts.h, [B, N, c.hiddenSize])
      const cls = tf.slice(h3, [0, 0, 0], [B, 1, c.hiddenSize]) // [B, 1, H]
      const z = layerNorm(tf.reshape(tf.add(h3, cls), [B * N, c.hiddenSize]), w.lnW, w.lnB, c.layerNormEps) as tf.Tensor2D
      const u = gelu(linear(z, w.denseW, w.denseB), opts.ctx) as tf.Tensor2D // [B·N, H]
      return tf.reshape(linear(u, w.clsW, w.clsB), [B, N]) // [B, N]
    })
  }
}
