/**
 * One post-LN BERT encoder layer of ELECTRA (HF ElectraLayer), names `electra.encoder.layer.<l>.*`:
 * a = LayerNorm(dropout(attention(x)·Woᵀ + bo) + x); h' = LayerNorm(dropout(gelu(a·W1ᵀ + b1)·W2ᵀ + b2) + a).
 */
import * as tf from '@tensorflow/tfjs'
import {dropout, gelu, layerNorm, linear, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import type {ElectraConfig} from './config.js'
import {ElectraSelfAttention} from './self-attention.js'

export class ElectraLayer {
  private readonly attention: ElectraSelfAttention
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    const H = c.hiddenSize
    const I = c.intermediateSize
    this.attention = new ElectraSelfAttention({config: c, params: p, prefix: `${prefix}.attention.self`})
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
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {x, ctx} = opts
    const w = this.w
    return tf.tidy(() => {
      const att = this.attention.apply(opts) // [B·N, H]
      const a = layerNorm(tf.add(dropout(linear(att, w.attnOutW, w.attnOutB), c.hiddenDropoutProb, ctx), x), w.attnLnW, w.attnLnB, c.layerNormEps) as tf.Tensor2D
      const u = gelu(linear(a, w.interW, w.interB), ctx) as tf.Tensor2D // [B·N, I]
      return layerNorm(tf.add(dropout(linear(u, w.outW, w.outB), c.hiddenDropoutProb, ctx), a), w.outLnW, w.outLnB, c.layerNormEps) as tf.Tensor2D
    })
  }
}
