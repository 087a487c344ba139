/**
 * The ELECTRA generator, HF ElectraForMaskedLM: ElectraModel + generator_predictions +
 * generator_lm_head with the decoder tied to its own word table E_G. The same public surface as
 * the DeBERTa MlmModel (../mlm-model.ts). Logits are computed only at the masked positions ([M, V]).
 */
import * as tf from '#tfjs'
import {loadIntoStore, toHost, type HostTensorLike} from '../hf-tensors.js'
import {maskedLmLoss, maskedLmRecompute, type MaskedLmLossOptions} from '../masked-lm-loss.js'
import {MlmHead} from '../mlm-head.js'
import {tidy, type ForwardContext, type Recompute} from '../nn.js'
import {ParamStore} from '../params.js'
import {TiedTable} from '../tied-table.js'
import type {ElectraConfig} from './config.js'
import {ElectraModel, type ElectraEncoderOutput} from './electra-model.js'
import {electraEncoderShape} from './encoder-shape.js'
import {isDocumentedElectraExtra, withElectraPrefix} from './hf-names.js'

export interface ElectraMlmForward {
  encoder: ElectraEncoderOutput
  /** [M, V] logits at the masked positions (row-major order of the mask). */
  logits: tf.Tensor2D
}

export class ElectraMlmModel {
  readonly params: ParamStore
  readonly electra: ElectraModel
  /** generator_predictions.* and generator_lm_head.bias (the decoder weight is E_G, tied). */
  readonly head: MlmHead
  /** E_G read by the lookup and the decoder with one gradient (../tied-table.ts). */
  private readonly tied: TiedTable

  /** @param opts.role label for init streams and variable names (default 'generator'). */
  constructor(readonly opts: {config: ElectraConfig; seed: number; role?: string}) {
    this.params = new ParamStore({role: opts.role ?? 'generator', seed: opts.seed, std: opts.config.initializerRange})
    this.electra = new ElectraModel({config: opts.config, params: this.params})
    this.head = new MlmHead({config: opts.config, params: this.params, prefix: 'generator_predictions', biasName: 'generator_lm_head.bias'})
    this.tied = new TiedTable(this.wordTable())
    this.electra.embeddings.tie = this.tied
  }

  get config(): ElectraConfig {
    return this.opts.config
  }

  /** The word table E_G (electra.embeddings.word_embeddings.weight, also generator_lm_head.weight). */
  wordTable(): tf.Variable {
    return this.electra.embeddings.wordTable()
  }

  variables(): tf.Variable[] {
    return [...this.params.vars.values()]
  }

  /**
   * @param inputIds int32 [B, N] (the masked input); @param mask float32 [B, N];
   * @param positions int32 [M] flat row indices (b·N + i) to predict.
   */
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; positions: tf.Tensor1D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): ElectraMlmForward {
    return tidy(() => {
      const encoder = this.electra.apply(opts)
      const rows = tf.gather(encoder.last, opts.positions) // [M, H]
      const logits = this.head.apply({h: rows, wordTable: this.wordTable(), ctx: opts.ctx, tie: this.tied})
      return {encoder, logits}
    })
  }

  /** The MLM loss of one batch (../masked-lm-loss.ts, as MlmModel.lossFn). */
  lossFn(opts: MaskedLmLossOptions): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: ElectraEncoderOutput} {
    return maskedLmLoss(this, opts)
  }

  /** Layers a step of this model alone recomputes when the ctx does not say (../masked-lm-loss.ts). */
  recomputes(batch: number, seqLen: number): Recompute {
    return maskedLmRecompute(electraEncoderShape(this.config), batch, seqLen)
  }

  /** Loads HF-named tensors (`electra.*`, `generator_predictions.*`, `generator_lm_head.bias`); returns notes on ignored extras. */
  loadTensors(tensors: Map<string, HostTensorLike>): string[] {
    return loadIntoStore({store: this.params, tensors: withElectraPrefix(tensors), role: 'generator', isDocumentedExtra: (k) => isDocumentedElectraExtra(k, 'generator')})
  }

  /** All parameters as HF-named host tensors (ElectraForMaskedLM; generator_lm_head.weight is tied, not stored). */
  exportTensors(): Map<string, HostTensorLike> {
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.params.vars) out.set(k, toHost(v))
    return out
  }

  dispose(): void {
    this.params.dispose()
  }
}
