/**
 * ELECTRA encoder (HF ElectraEncoder), names `electra.encoder.layer.<l>.*`: the key-padding mask
 * and the layer loop, with optional per-layer recomputation (../recompute.ts).
 */
import * as tf from '#tfjs'
import {recomputesLayer, tidy, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import {recomputed} from '../recompute.js'
import type {ElectraConfig} from './config.js'
import {ElectraLayer} from './layer.js'

/** Added to the scores of padding keys; exp() of it is 0 in float32 and it cannot overflow to -inf. */
const MASK_NEGATIVE = -1e9

export class ElectraEncoder {
  readonly layers: ElectraLayer[] = []

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    for (let l = 0; l < c.numHiddenLayers; l++) this.layers.push(new ElectraLayer({config: c, params: p, prefix: `${prefix}.layer.${l}`}))
  }

  /**
   * @param h [B·N, H] encoder input; @param mask float32 [B, N].
   * Returns the hidden states: index 0 = h, index l = output of layer l (L + 1 entries).
   */
  apply(opts: {h: tf.Tensor2D; mask: tf.Tensor2D; ctx: ForwardContext}): tf.Tensor2D[] {
    const [B, N] = opts.mask.shape
    return tidy(() => {
      const keyMaskBias = tf.reshape(tf.mul(tf.sub(1, opts.mask), MASK_NEGATIVE), [B, 1, 1, N]) // [B, 1, 1, N]
      const states = [opts.h]
      let h = opts.h
      for (const [index, layer] of this.layers.entries()) {
        if (recomputesLayer(opts.ctx.recompute, index)) {
          h = recomputed({
            inputs: [h],
            constants: [keyMaskBias],
            variables: layer.variables(),
            ctx: opts.ctx,
            fn: ([x], [bias], ctx) => layer.apply({x: x as tf.Tensor2D, batch: B, seqLen: N, keyMaskBias: bias!, ctx}),
          })
        } else {
          h = layer.apply({x: h, batch: B, seqLen: N, keyMaskBias, ctx: opts.ctx})
        }
        states.push(h)
      }
      return states
    })
  }
}
