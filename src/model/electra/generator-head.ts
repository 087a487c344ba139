/**
 * The ELECTRA generator's MLM head (HF ElectraGeneratorPredictions + generator_lm_head):
 * logits = LayerNorm(gelu(h·Wdᵀ + bd))·E_Gᵀ + generator_lm_head.bias, dense H → embedding_size,
 * decoder tied to the generator's word table (`generator_lm_head.weight` is E_G, not a parameter).
 * Applied only to the rows that need logits (masked positions): [M, H] → [M, V].
 */
import * as tf from '@tensorflow/tfjs'
import {gelu, layerNorm, linear, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import type {TiedTable} from '../tied-table.js'
import type {ElectraConfig} from './config.js'

export class ElectraGeneratorHead {
  private readonly denseW: tf.Variable
  private readonly denseB: tf.Variable
  private readonly lnW: tf.Variable
  private readonly lnB: tf.Variable
  /** generator_lm_head.bias [V]. */
  readonly bias: tf.Variable

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore}) {
    const {config: c, params: p} = opts
    const E = c.embeddingSize
    this.denseW = p.create('generator_predictions.dense.weight', [E, c.hiddenSize], 'normal', {head: 'MLM head'}) // [E, H]
    this.denseB = p.create('generator_predictions.dense.bias', [E], 'zeros', {head: 'MLM head'})
    this.lnW = p.create('generator_predictions.LayerNorm.weight', [E], 'ones', {head: 'MLM head'})
    this.lnB = p.create('generator_predictions.LayerNorm.bias', [E], 'zeros', {head: 'MLM head'})
    this.bias = p.create('generator_lm_head.bias', [c.vocabSize], 'zeros', {head: 'MLM head'})
  }

  /** @param h [M, H] hidden states of the rows to predict; @param wordTable E_G [V, E]. Returns logits [M, V]. */
  apply(opts: {h: tf.Tensor2D; wordTable: tf.Tensor; ctx: ForwardContext; tie?: TiedTable}): tf.Tensor2D {
    const c = this.opts.config
    return tf.tidy(() => {
      const t = layerNorm(gelu(linear(opts.h, this.denseW, this.denseB), opts.ctx), this.lnW, this.lnB, c.layerNormEps) as tf.Tensor2D // [M, E]
      // the tied decoder hands E_G's gradient to the embedding lookup (../tied-table.ts)
      if (opts.tie && opts.tie.table === opts.wordTable) return opts.tie.decode(t, this.bias as tf.Tensor as tf.Tensor1D) // [M, V]
      return linear(t, opts.wordTable, this.bias) // [M, V]
    })
  }
}
