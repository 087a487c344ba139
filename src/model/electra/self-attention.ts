/**
 * BERT self-attention of ELECTRA (HF ElectraSelfAttention), names `attention.self.{query,key,value}`:
 * softmax(q·kᵀ/√d + m)·v per head, m a large negative number on padded keys only (padded query
 * rows stay real rows, as in HF).
 */
import * as tf from '#tfjs'
import {dropout, linear, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import {electraHeadDim, type ElectraConfig} from './config.js'

export class ElectraSelfAttention {
  private readonly w: Record<string, tf.Variable>

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; prefix: string}) {
    const {config: c, params: p, prefix} = opts
    const H = c.hiddenSize
    this.w = {
      qW: p.create(`${prefix}.query.weight`, [H, H], 'normal'),
      qB: p.create(`${prefix}.query.bias`, [H], 'zeros'),
      kW: p.create(`${prefix}.key.weight`, [H, H], 'normal'),
      kB: p.create(`${prefix}.key.bias`, [H], 'zeros'),
      vW: p.create(`${prefix}.value.weight`, [H, H], 'normal'),
      vB: p.create(`${prefix}.value.bias`, [H], 'zeros'),
    }
  }

  variables(): tf.Variable[] {
    return Object.values(this.w)
  }

  /**
   * @param x [B·N, H]; @param keyMaskBias [B, 1, 1, N] (0 on real keys, a large negative on pads).
   * Returns the attention context [B·N, H] (before attention.output.dense).
   */
  apply(opts: {x: tf.Tensor2D; batch: number; seqLen: number; keyMaskBias: tf.Tensor; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const {x, batch: B, seqLen: N} = opts
    const nh = c.numAttentionHeads
    const d = electraHeadDim(c)
    const w = this.w
    return tf.tidy(() => {
      const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, N, nh, d]), [0, 2, 1, 3]) // [B, nh, N, d]
      const q = heads(linear(x, w.qW, w.qB))
      const k = heads(linear(x, w.kW, w.kB))
      const v = heads(linear(x, w.vW, w.vB))
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)), opts.keyMaskBias) // [B, nh, N, N]
      const probs = dropout(tf.softmax(scores, -1), c.attentionProbsDropoutProb, opts.ctx)
      const ctxv = tf.matMul(probs, v) // [B, nh, N, d]
      return tf.reshape(tf.transpose(ctxv, [0, 2, 1, 3]), [B * N, c.hiddenSize]) as tf.Tensor2D
    })
  }
}
