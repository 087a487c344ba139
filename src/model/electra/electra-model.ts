/**
 * HF ElectraModel under the `electra.` prefix: embeddings (LayerNorm over embedding_size), then
 * `electra.embeddings_project` Linear(E → H, with bias) when embedding_size != hidden_size, then
 * the encoder.
 */
import * as tf from '#tfjs'
import type {EncoderOutput} from '../rtd-step.js'
import {linear, tidy, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import type {ElectraConfig} from './config.js'
import {ElectraEmbeddings, type ElectraEmbeddingsShare} from './embeddings.js'
import {ElectraEncoder} from './encoder.js'

export interface ElectraEncoderOutput extends EncoderOutput {
  /** Embeddings LayerNorm output before embeddings_project, [B·N, E] (also in `extra`, so results dispose it). */
  embeddingsLn: tf.Tensor2D
  extra: tf.Tensor[]
}

export class ElectraModel {
  readonly embeddings: ElectraEmbeddings
  readonly encoder: ElectraEncoder
  private readonly project?: {weight: tf.Variable; bias: tf.Variable}

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; share?: ElectraEmbeddingsShare}) {
    const {config: c, params: p} = opts
    this.embeddings = new ElectraEmbeddings({config: c, params: p, prefix: 'electra.embeddings', share: opts.share})
    if (c.embeddingSize !== c.hiddenSize) {
      this.project = {
        weight: p.create('electra.embeddings_project.weight', [c.hiddenSize, c.embeddingSize], 'normal'), // [H, E]
        bias: p.create('electra.embeddings_project.bias', [c.hiddenSize], 'zeros'),
      }
    }
    this.encoder = new ElectraEncoder({config: c, params: p, prefix: 'electra.encoder'})
  }

  /** @param inputIds int32 [B, N]; @param mask float32 [B, N]; @param tokenTypeIds int32 [B, N] (default zeros). */
  apply(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): ElectraEncoderOutput {
    const [B, N] = opts.inputIds.shape
    if (opts.mask.shape[0] !== B || opts.mask.shape[1] !== N) {
      throw new Error(`attention mask shape ${JSON.stringify(opts.mask.shape)} differs from input ids shape [${B}, ${N}]`)
    }
    return tidy(() => {
      const embeddingsLn = this.embeddings.apply(opts) // [B·N, E]
      const h = this.project ? linear(embeddingsLn, this.project.weight, this.project.bias) : embeddingsLn // [B·N, H]
      const hiddenStates = this.encoder.apply({h, mask: opts.mask, ctx: opts.ctx})
      return {hiddenStates, last: hiddenStates[hiddenStates.length - 1]!, embeddingsLn, extra: [embeddingsLn]}
    })
  }
}
