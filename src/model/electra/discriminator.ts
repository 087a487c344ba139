/**
 * The ELECTRA discriminator, HF ElectraForPreTraining: ElectraModel (whose three embedding tables
 * may be shared with the generator's) + discriminator_predictions, one logit per token. The same
 * public surface as the DeBERTa Discriminator (../discriminator.ts).
 */
import * as tf from '#tfjs'
import {tidy, type ForwardContext} from '../nn.js'
import {ParamStore} from '../params.js'
import type {ElectraConfig} from './config.js'
import {ElectraDiscriminatorHead} from './discriminator-head.js'
import {ElectraModel, type ElectraEncoderOutput} from './electra-model.js'
import type {ElectraEmbeddingsShare} from './embeddings.js'

export class ElectraDiscriminator {
  readonly params: ParamStore
  readonly electra: ElectraModel
  readonly head: ElectraDiscriminatorHead

  constructor(readonly opts: {config: ElectraConfig; seed: number; share?: ElectraEmbeddingsShare}) {
    this.params = new ParamStore({role: 'discriminator', seed: opts.seed, std: opts.config.initializerRange})
    this.electra = new ElectraModel({config: opts.config, params: this.params, share: opts.share})
    this.head = new ElectraDiscriminatorHead({config: opts.config, params: this.params})
  }

  get config(): ElectraConfig {
    return this.opts.config
  }

  /** @param inputIds int32 [B, N]; @param mask float32 [B, N]. Returns the encoder output and logits [B, N]. */
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): {encoder: ElectraEncoderOutput; logits: tf.Tensor2D} {
    const [B, N] = opts.inputIds.shape
    return tidy(() => {
      const encoder = this.electra.apply(opts)
      return {encoder, logits: this.head.apply({h: encoder.last, batch: B, seqLen: N, ctx: opts.ctx})}
    })
  }
}
