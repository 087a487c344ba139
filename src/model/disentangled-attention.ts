/**
 * Disentangled self-attention of DeBERTa-v2/v3 (SPEC B.2.3; HF DisentangledSelfAttention,
 * Microsoft disentangled_attention.py): scores = (c2c + c2p + p2c) / sqrt(d·(1 + #pos types)).
 *
 * How the relative terms are computed here (all ranks ≤ 3, no gatherND/einsum, no batchDims):
 * δ(i, j) depends only on r = i - j, so instead of gathering a [B, nh, N, N] block out of
 * Q·Pkᵀ [B, nh, N, 2S] we gather the 2N-1 table rows that r = -(N-1)..N-1 use (a 1-D gather on
 * the small [2S, H] table, index built once per N), project them, take one product
 * A = Q·Pk'ᵀ [nh, B·N, 2N-1], and read c2p[i, j] = A[i, j - i + N - 1] with a reshape/slice skew
 * (Transformer-XL's relative shift). p2c is the same construction on K with the reversed rows,
 * giving p2cᵀ, which is transposed once. Every op has a standard, cheap gradient. The skews,
 * the sum, the key mask, softmax and dropout are one kernel each way where the backend fuses them
 * (attentionProbs, src/runtime/fused-ops.ts), else that composition.
 */
import * as tf from '#tfjs'
import {headDim, type DebertaConfig} from './config.js'
import {attentionProbs, skew, type AttentionScoreTerms} from '../runtime/fused-ops.js'
import {dropout, dropoutSeed, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import type {RelativeGatherIndex} from './relative-position.js'

export {skew}

interface Proj {
  weight: tf.Variable
  bias: tf.Variable
}

export class DisentangledSelfAttention {
  private readonly query: Proj
  private readonly key: Proj
  private readonly value: Proj
  private readonly posKey?: Proj
  private readonly posQuery?: Proj
  private readonly scale: number

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    const H = c.hiddenSize
    const proj = (name: string): Proj => ({
      weight: p.create(`${prefix}.${name}.weight`, [H, H], 'normal'),
      bias: p.create(`${prefix}.${name}.bias`, [H], 'zeros'),
    })
    this.query = proj('query_proj')
    this.key = proj('key_proj')
    this.value = proj('value_proj')
    if (c.relativeAttention && !c.shareAttKey) {
      if (c.posAttType.includes('c2p')) this.posKey = proj('pos_key_proj')
      if (c.posAttType.includes('p2c')) this.posQuery = proj('pos_query_proj')
    }
    // HF counts the position types even when relative_attention is off.
    this.scale = Math.sqrt(headDim(c) * (1 + c.posAttType.length))
  }

  /** The variables this block reads. */
  variables(): tf.Variable[] {
    return [this.query, this.key, this.value, this.posKey, this.posQuery].flatMap((p) => (p ? [p.weight, p.bias] : []))
  }

  /**
   * @param x [B·N, H] hidden states; @param keyMaskBias [1, B, 1, N]: 0 at tokens, a large negative at pads;
   * @param relTable R̂ [2S, H] (after the rel-embedding LayerNorm) when relative attention is on;
   * @param relIndex gather rows for this N (relative-position.ts). Returns the context [B·N, H].
   */
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; relTable?: tf.Tensor2D; relIndex?: RelativeGatherIndex; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {x, batch: B, seqLen: N, ctx} = opts
    const H = c.hiddenSize
    const nh = c.numAttentionHeads
    const d = headDim(c)
    const noPosBias = ctx.faults?.includes('no-pos-bias') ?? false
    return tf.tidy(() => {
      // [R, H] → [R, nh, d] → [nh, R, d]
      const heads = (t: tf.Tensor, rows: number) => tf.transpose(tf.reshape(t, [rows, nh, d]), [1, 0, 2]) as tf.Tensor3D
      const q = heads(tf.mul(linear(x, this.query.weight, this.query.bias), 1 / this.scale), B * N) // [nh, B·N, d], pre-scaled
      const k = heads(linear(x, this.key.weight, this.key.bias), B * N) // [nh, B·N, d]
      const v = heads(linear(x, this.value.weight, this.value.bias), B * N) // [nh, B·N, d]
      const q3 = tf.reshape(q, [nh * B, N, d])
      const k3 = tf.reshape(k, [nh * B, N, d])
      const terms: AttentionScoreTerms = {c2c: tf.matMul(q3, k3, false, true), maskBias: opts.keyMaskBias, heads: nh} // c2c: [nh·B, N, N]
      if (c.relativeAttention && opts.relTable && opts.relIndex) {
        const r = dropout(opts.relTable, c.hiddenDropoutProb, ctx) // [2S, H], pos_dropout
        if (c.posAttType.includes('c2p')) {
          const pk = this.posKey ?? this.key
          const rows = tf.gather(r, opts.relIndex.c2p) // [2N-1, H], row t ↔ r = (N-1) - t
          const pkh = heads(linear(rows, pk.weight, noPosBias ? undefined : pk.bias), 2 * N - 1) // [nh, 2N-1, d]
          const a = tf.matMul(q, pkh, false, true) // [nh, B·N, 2N-1]
          terms.c2p = tf.reshape(a, [nh * B, N, 2 * N - 1]) // c2p[i, j] = Q_i·Pk[δ(i,j)] = a[i, j - i + N - 1] (skew)
        }
        if (c.posAttType.includes('p2c')) {
          const pq = this.posQuery ?? this.query
          const rows = tf.gather(r, opts.relIndex.p2c) // [2N-1, H], row t ↔ r = t - (N-1)
          const pqh = heads(tf.mul(linear(rows, pq.weight, noPosBias ? undefined : pq.bias), 1 / this.scale), 2 * N - 1) // [nh, 2N-1, d]
          const cc = tf.matMul(k, pqh, false, true) // [nh, B·N, 2N-1]
          terms.p2c = tf.reshape(cc, [nh * B, N, 2 * N - 1]) // p2c[i, j] = K_j·Pq[δ(i,j)]: the skew of cc, transposed
        }
      }
      // c2c + c2p + p2c + key mask (pads get a large negative), softmax, dropout: one kernel where the backend fuses it
      const probs = attentionProbs(terms, c.attentionProbsDropoutProb, dropoutSeed(c.attentionProbsDropoutProb, ctx)) // [nh·B, N, N]
      const out = tf.matMul(probs, tf.reshape(v, [nh * B, N, d])) // [nh·B, N, d]
      return tf.reshape(tf.transpose(tf.reshape(out, [nh, B * N, d]), [1, 0, 2]), [B * N, H]) // [B·N, H]
    })
  }
}
