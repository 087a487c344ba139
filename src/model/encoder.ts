/**
 * DeBERTa-v2/v3 encoder (SPEC B.2.2, B.2.5; HF DebertaV2Encoder): the relative-embedding table
 * `rel_embeddings` [2S, H], LayerNorm'ed once per forward (`encoder.LayerNorm`) when
 * norm_rel_ebd says so, shared by all layers; the key-padding mask; the layer loop.
 */
import * as tf from '#tfjs'
import {maxRelativePositions, relativeSpan, type DebertaConfig} from './config.js'
import {DebertaLayer} from './layer.js'
import {layerNorm, recomputesLayer, tidy, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import {recomputed} from './recompute.js'
import {relativeGatherIndex} from './relative-position.js'

/** Added to the scores of padding keys; exp() of it is 0 in float32 and it cannot overflow to -inf. */
const MASK_NEGATIVE = -1e9

export class Encoder {
  readonly layers: DebertaLayer[] = []
  private readonly rel?: {table: tf.Variable; lnWeight?: tf.Variable; lnBias?: tf.Variable}

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    for (let l = 0; l < c.numHiddenLayers; l++) this.layers.push(new DebertaLayer({config: c, params: p, prefix: `${prefix}.layer.${l}`}))
    if (c.relativeAttention) {
      const table = p.create(`${prefix}.rel_embeddings.weight`, [2 * relativeSpan(c), c.hiddenSize], 'normal')
      this.rel = c.normRelEmbedding
        ? {table, lnWeight: p.create(`${prefix}.LayerNorm.weight`, [c.hiddenSize], 'ones'), lnBias: p.create(`${prefix}.LayerNorm.bias`, [c.hiddenSize], 'zeros')}
        : {table}
    }
  }

  /** R̂ = LayerNorm(rel_embeddings) (or the raw table), [2S, H]; undefined without relative attention. */
  relTable(): tf.Tensor2D | undefined {
    const r = this.rel
    if (r === undefined) return undefined
    if (r.lnWeight === undefined || r.lnBias === undefined) return r.table.clone() as tf.Tensor2D
    return layerNorm(r.table, r.lnWeight, r.lnBias, this.opts.config.layerNormEps) as tf.Tensor2D
  }

  /**
   * @param h [B·N, H] embeddings output; @param mask float32 [B, N].
   * Returns the hidden states: index 0 = h, index l = output of layer l (L + 1 entries).
   */
  apply(opts: {h: tf.Tensor2D; mask: tf.Tensor2D; ctx: ForwardContext}): tf.Tensor2D[] {
    const c = this.opts.config
    const [B, N] = opts.mask.shape
    return tidy(() => {
      const keyMaskBias = tf.reshape(tf.mul(tf.sub(1, opts.mask), MASK_NEGATIVE), [1, B, 1, N]) // [1, B, 1, N]
      const relTable = this.relTable()
      const relIndex = c.relativeAttention
        ? relativeGatherIndex({
            seqLen: N,
            bucketSize: c.positionBuckets,
            maxPosition: maxRelativePositions(c),
            span: relativeSpan(c),
            offByOne: opts.ctx.faults?.includes('bucket-off-by-one'),
          })
        : undefined
      const states = [opts.h]
      let h = opts.h
      for (const [index, layer] of this.layers.entries()) {
        if (recomputesLayer(opts.ctx.recompute, index)) {
          // relTable is an input (its gradient reaches rel_embeddings and the LayerNorm); the mask a constant.
          h = recomputed({
            inputs: relTable ? [h, relTable] : [h],
            constants: [keyMaskBias],
            variables: layer.variables(),
            ctx: opts.ctx,
            fn: ([x, rel], [bias], ctx) =>
              layer.apply({x: x as tf.Tensor2D, batch: B, seqLen: N, keyMaskBias: bias!, relTable: rel as tf.Tensor2D | undefined, relIndex, ctx}),
          })
        } else {
          h = layer.apply({x: h, batch: B, seqLen: N, keyMaskBias, relTable, relIndex, ctx: opts.ctx})
        }
        states.push(h)
      }
      return states
    })
  }
}
