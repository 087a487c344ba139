/**
 * One DeBERTa-v2/v3 encoder layer (SPEC B.2.3 items 9-10 and B.2.4; HF DebertaV2Layer):
 * disentangled self-attention, then the post-LN block (post-ln-block.ts):
 * y = LayerNorm(dropout(attention(x)·Woᵀ + bo) + x); z = LayerNorm(dropout(gelu(y·W1ᵀ + b1)·W2ᵀ + b2) + y).
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {DisentangledSelfAttention} from './disentangled-attention.js'
import type {ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import {PostLnBlock} from './post-ln-block.js'
import type {RelativeGatherIndex} from './relative-position.js'

export class DebertaLayer {
  private readonly attention: DisentangledSelfAttention
  private readonly block: PostLnBlock

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix: string}) {
    const {config, params, prefix} = opts
    this.attention = new DisentangledSelfAttention({config, params, prefix: `${prefix}.attention.self`})
    this.block = new PostLnBlock({config, params, prefix})
  }

  /** The variables this layer reads (attention included). */
  variables(): tf.Variable[] {
    return [...this.attention.variables(), ...this.block.variables()]
  }

  /** x [B·N, H] → [B·N, H]. */
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; relTable?: tf.Tensor2D; relIndex?: RelativeGatherIndex; ctx: ForwardContext}): tf.Tensor2D {
    return tf.tidy(() => this.block.apply({att: this.attention.apply(opts), x: opts.x, ctx: opts.ctx}))
  }
}
