/**
 * The RTD discriminator: DebertaV2Model (whose embeddings may share the generator's tables,
 * SPEC B.6) + the `mask_predictions` head, one logit per token.
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {DebertaModel, type EncoderOutput} from './deberta-model.js'
import type {DiscriminatorNet, SharedTable, TableName, TableShare} from './architecture.js'
import {isDocumentedExtra, loadIntoStore, withDebertaPrefix, type HostTensorLike} from './hf-tensors.js'
import {tidy, type ForwardContext} from './nn.js'
import {ParamStore} from './params.js'
import {RtdHead} from './rtd-head.js'

export class Discriminator implements DiscriminatorNet<DebertaConfig> {
  readonly params: ParamStore
  readonly deberta: DebertaModel
  readonly head: RtdHead

  constructor(readonly opts: {config: DebertaConfig; seed: number; share?: TableShare}) {
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

  sharedTables(): SharedTable[] {
    return this.deberta.embeddings.sharedTables()
  }

  ownTables(): Partial<Record<TableName, tf.Variable>> {
    const e = this.deberta.embeddings
    return {...(e.word.mode === 'own' ? {word: e.word.own!} : {}), ...(e.position?.mode === 'own' ? {position: e.position.own!} : {})}
  }

  /** Files saved from a bare DebertaV2Model have no `deberta.` prefix. */
  canonicalNames<T>(tensors: Map<string, T>): Map<string, T> {
    return withDebertaPrefix(tensors)
  }

  loadTensors(tensors: Map<string, HostTensorLike>, opts: {ignore?: (name: string) => boolean} = {}): string[] {
    return loadIntoStore({store: this.params, tensors, role: 'discriminator', isDocumentedExtra: (k) => isDocumentedExtra(k, 'discriminator') || (opts.ignore?.(k) ?? false)})
  }

  dispose(): void {
    this.params.dispose()
  }
}
