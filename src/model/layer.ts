/**
 * One DeBERTa-v2/v3 encoder layer (SPEC B.2.3 items 9-10 and B.2.4; HF DebertaV2Layer):
 * y = LayerNorm(dropout(attention(x)·Woᵀ + bo) + x); z = LayerNorm(dropout(gelu(y·W1ᵀ + b1)·W2ᵀ + b2) + y).
 */
import * as tf from '@tensorflow/tfjs'
import type {DebertaConfig} from './config.js'
import {DisentangledSelfAttention} from './disentangled-attention.js'
import {dropout, gelu, layerNorm, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import type {RelativeGatherIndex} from './relative-position.js'

export class DebertaLayer {
  private readonly attention: DisentangledSelfAttention
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    const H = c.hiddenSize
    const I = c.intermediateSize
    this.attention = new DisentangledSelfAttention({config: c, params: p, prefix: `${prefix}.attention.self`})
    this.w = {
      attnOutW: p.create(`${prefix}.attention.output.dense.weight`, [H, H], 'normal'),
      attnOutB: p.create(`${prefix}.attention.output.dense.bias`, [H], 'zeros'),
      attnLnW: p.create(`${prefix}.attention.output.LayerNorm.weight`, [H], 'ones'),
      attnLnB: p.create(`${prefix}.attention.output.LayerNorm.bias`, [H], 'zeros'),
      interW: p.create(`${prefix}.intermediate.dense.weight`, [I, H], 'normal'),
      interB: p.create(`${prefix}.intermediate.dense.bias`, [I], 'zeros'),
      outW: p.create(`${prefix}.output.dense.weight`, [H, I], 'normal'),
      outB: p.create(`${prefix}.output.dense.bias`, [H], 'zeros'),
      outLnW: p.create(`${prefix}.output.LayerNorm.weight`, [H], 'ones'),
      outLnB: p.create(`${prefix}.output.LayerNorm.bias`, [H], 'zeros'),
    }
  }

  /** The variables this layer reads (attention included). */
  variables(): tf.Variable[] {
    return [...this.attention.variables(), ...Object.values(this.w)]
  }

  /** x [B·N, H] → [B·N, H]. */
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; relTable?: tf.Tensor2D; relIndex?: RelativeGatherIndex; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {x, ctx} = opts
    const w = this.w
    return tf.tidy(() => {
      const att = this.attention.apply(opts) // [B·N, H]
      const y = layerNorm(tf.add(dropout(linear(att, w.attnOutW, w.attnOutB), c.hiddenDropoutProb, ctx), x), w.attnLnW, w.attnLnB, c.layerNormEps) as tf.Tensor2D
      const u = gelu(linear(y, w.interW, w.interB), ctx) as tf.Tensor2D // [B·N, I]
      return layerNorm(tf.add(dropout(linear(u, w.outW, w.outB), c.hiddenDropoutProb, ctx), y), w.outLnW, w.outLnB, c.layerNormEps) as tf.Tensor2D
    })
  }
}
