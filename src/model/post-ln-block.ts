/**
 * What a post-LN (BERT-style) encoder layer does after its self-attention, the same in DeBERTa-v2/v3
 * (HF DebertaV2Layer, SPEC B.2.3 items 9-10) and ELECTRA (HF ElectraLayer), names
 * `<prefix>.attention.output.*`, `<prefix>.intermediate.dense.*`, `<prefix>.output.*`:
 * a = LayerNorm(dropout(att·Woᵀ + bo) + x); out = LayerNorm(dropout(gelu(a·W1ᵀ + b1)·W2ᵀ + b2) + a).
 */
import * as tf from '#tfjs'
import {dropout, gelu, layerNorm, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'

/** The config fields the block reads (DebertaConfig and ElectraConfig both have them). */
export interface PostLnBlockConfig {
  hiddenSize: number
  intermediateSize: number
  hiddenDropoutProb: number
  layerNormEps: number
}

export class PostLnBlock {
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: PostLnBlockConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    const H = c.hiddenSize
    const I = c.intermediateSize
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

  variables(): tf.Variable[] {
    return Object.values(this.w)
  }

  /** @param att the self-attention's output [B·N, H]; @param x the layer's input [B·N, H]. Returns [B·N, H] (in the caller's tidy). */
  apply(opts: {att: tf.Tensor2D; x: tf.Tensor2D; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {att, x, ctx} = opts
    const w = this.w
    const a = layerNorm(tf.add(dropout(linear(att, w.attnOutW, w.attnOutB), c.hiddenDropoutProb, ctx), x), w.attnLnW, w.attnLnB, c.layerNormEps) as tf.Tensor2D
    const u = gelu(linear(a, w.interW, w.interB), ctx) as tf.Tensor2D // [B·N, I]
    return layerNorm(tf.add(dropout(linear(u, w.outW, w.outB), c.hiddenDropoutProb, ctx), a), w.outLnW, w.outLnB, c.layerNormEps) as tf.Tensor2D
  }
}
