/**
 * The RTD discriminator: DebertaV2Model (whose embeddings may share the generator's tables,
 * SPEC B.6) + the `mask_predictions` head, one logit per token.
 */
import * as tf from '@tensorflow/tfjs'
import type {DebertaConfig} from './config.js'
import {DebertaModel, type EncoderOutput} from './deberta-model.js'
import type {Embeddings} from './embeddings.js'
import {tidy, type ForwardContext} from './nn.js'
import {ParamStore} from './params.js'
import {RtdHead} from './rtd-head.js'

export class Discriminator {
  readonly params: ParamStore
  readonly deberta: DebertaModel
  readonly head: RtdHead

  constructor(readonly opts: {config: DebertaConfig; seed: number; share?: {mode: 'es' | 'gdes'; source: Embeddings}}) {
    this.params = new ParamStore({role: 'discriminator', seed: opts.seed, std: opts.config.initializerRange})
    this.deberta = new DebertaModel({config: opts.config, params: this.params, share: opts.share})
    this.head = new RtdHead({config: opts.config, params: this.params})
  }

  get config(): DebertaConfig {
    return this.opts.config
  }

  /** @param inputIds int32 [B, N]; @param mask float32 [B, N]. Returns the encoder output and logits [B, N]. */
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): {encoder: EncoderOutput; logits: tf.Tensor2D} {
    const [B, N] = opts.inputIds.shape
    return tidy(() => {
      const encoder = this.deberta.apply(opts)
      return {encoder, logits: this.head.apply({h: encoder.last, batch: B, seqLen: N, ctx: opts.ctx})}
    })
  }
}
