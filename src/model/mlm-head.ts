/**
 * The generator's MLM head, one class for DeBERTa-v2/v3 (SPEC B.3.1; Microsoft
 * BertLMPredictionHead, HF non-legacy DebertaV2LMPredictionHead, names `lm_predictions.lm_head.*`)
 * and ELECTRA (HF ElectraGeneratorPredictions + generator_lm_head, names `generator_predictions.*`
 * and `generator_lm_head.bias`): logits = LayerNorm(gelu(h·Wdᵀ + bd))·Eᵀ + bias, dense H →
 * embedding_size, decoder tied to the generator's word table E (not a parameter of its own).
 * Applied only to the rows that need logits (masked positions): [M, H] → [M, V].
 */
import * as tf from '#tfjs'
import {gelu, layerNorm, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import type {TiedTable} from './tied-table.js'

/** The config fields the head reads (DebertaConfig and ElectraConfig both have them). */
export interface MlmHeadConfig {
  hiddenSize: number
  embeddingSize: number
  vocabSize: number
  layerNormEps: number
}

export class MlmHead {
  private readonly denseW: tf.Variable
  private readonly denseB: tf.Variable
  private readonly lnW: tf.Variable
  private readonly lnB: tf.Variable
  /** The output bias [V]. */
  readonly bias: tf.Variable

  /**
   * @param opts.prefix of the transform's dense and LayerNorm (default `lm_predictions.lm_head`);
   * @param opts.biasName default `<prefix>.bias`.
   */
  constructor(readonly opts: {config: MlmHeadConfig; params: ParamStore; prefix?: string; biasName?: string}) {
    const {config: c, params: p} = opts
    const prefix = opts.prefix ?? 'lm_predictions.lm_head'
    const emb = c.embeddingSize
    this.denseW = p.create(`${prefix}.dense.weight`, [emb, c.hiddenSize], 'normal', {head: 'MLM head'})
    this.denseB = p.create(`${prefix}.dense.bias`, [emb], 'zeros', {head: 'MLM head'})
    this.lnW = p.create(`${prefix}.LayerNorm.weight`, [emb], 'ones', {head: 'MLM head'})
    this.lnB = p.create(`${prefix}.LayerNorm.bias`, [emb], 'zeros', {head: 'MLM head'})
    this.bias = p.create(opts.biasName ?? `${prefix}.bias`, [c.vocabSize], 'zeros', {head: 'MLM head'})
  }

  /** @param h [M, H] hidden states of the rows to predict; @param wordTable E [V, emb]. Returns logits [M, V]. */
  apply(opts: {h: tf.Tensor2D; wordTable: tf.Tensor; ctx: ForwardContext; tie?: TiedTable}): tf.Tensor2D {
    const c = this.opts.config
    return tf.tidy(() => {
      const t = layerNorm(gelu(linear(opts.h, this.denseW, this.denseB), opts.ctx), this.lnW, this.lnB, c.layerNormEps) as tf.Tensor2D // [M, emb]
      // the tied decoder hands E's gradient to the embedding lookup (tied-table.ts)
      if (opts.tie && opts.tie.table === opts.wordTable) return opts.tie.decode(t, this.bias as tf.Tensor as tf.Tensor1D) // [M, V]
      return linear(t, opts.wordTable, this.bias) // [M, V]
    })
  }
}
