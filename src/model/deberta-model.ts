/**
 * DebertaV2Model (SPEC B.2): embeddings + encoder under the `deberta.` prefix.
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {Embeddings} from './embeddings.js'
import {Encoder} from './encoder.js'
import {tidy, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import type {EncoderOutput, TableShare} from './architecture.js'

export type {EncoderOutput} from './architecture.js'

export class DebertaModel {
  readonly embeddings: Embeddings
  readonly encoder: Encoder

  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; share?: TableShare}) {
    this.embeddings = new Embeddings({config: opts.config, params: opts.params, prefix: 'deberta.embeddings', share: opts.share})
    this.encoder = new Encoder({config: opts.config, params: opts.params, prefix: 'deberta.encoder'})
  }

  /** @param inputIds int32 [B, N]; @param mask float32 [B, N]. */
  apply(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): EncoderOutput {
    const [B, N] = opts.inputIds.shape
    if (opts.mask.shape[0] !== B || opts.mask.shape[1] !== N) {
      throw new Error(`attention mask shape ${JSON.stringify(opts.mask.shape)} differs from input ids shape [${B}, ${N}]`)
    }
    return tidy(() => {
      const h = this.embeddings.apply(opts)
      const hiddenStates = this.encoder.apply({h, mask: opts.mask, ctx: opts.ctx})
      return {hiddenStates, last: hiddenStates[hiddenStates.length - 1]}
    })
  }
}
