/**
 * One post-LN BERT encoder layer of ELECTRA (HF ElectraLayer), names `electra.encoder.layer.<l>.*`:
 * self-attention, then the post-LN block DeBERTa's layer uses too (../post-ln-block.ts):
 * a = LayerNorm(dropout(attention(x)·Woᵀ + bo) + x); h' = LayerNorm(dropout(gelu(a·W1ᵀ + b1)·W2ᵀ + b2) + a).
 */
import * as tf from '#tfjs'
import type {ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import {PostLnBlock} from '../post-ln-block.js'
import type {ElectraConfig} from './config.js'
import {ElectraSelfAttention} from './self-attention.js'

export class ElectraLayer {
  private readonly attention: ElectraSelfAttention
  private readonly block: PostLnBlock

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; prefix: string}) {
    const {config, params, prefix} = opts
    this.attention = new ElectraSelfAttention({config, params, prefix: `${prefix}.attention.self`})
    this.block = new PostLnBlock({config, params, prefix})
  }

  /** The variables this layer reads (attention included). */
  variables(): tf.Variable[] {
    return [...this.attention.variables(), ...this.block.variables()]
  }

  /** x [B·N, H] → [B·N, H]. */
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; ctx: ForwardContext}): tf.Tensor2D {
    return tf.tidy(() => this.block.apply({att: this.attention.apply(opts), x: opts.x, ctx: opts.ctx}))
  }
}
