/**
 * The ELECTRA generator, HF ElectraForMaskedLM: ElectraModel + generator_predictions +
 * generator_lm_head with the decoder tied to its own word table E_G. The same public surface as
 * the DeBERTa MlmModel (../mlm-model.ts). Logits are computed only at the masked positions ([M, V]).
 */
import * as tf from '@tensorflow/tfjs'
import {loadIntoStore, toHost, type HostTensorLike} from '../hf-tensors.js'
import {mlmLoss} from '../losses.js'
import {maskedPositions} from '../mlm-model.js'
import {tidy, type ForwardContext, type Recompute} from '../nn.js'
import {ParamStore} from '../params.js'
import {TiedTable} from '../tied-table.js'
import {autoRecompute} from '../../runtime/memory-estimate.js'
import type {ElectraConfig} from './config.js'
import {ElectraModel, type ElectraEncoderOutput} from './electra-model.js'
import {electraEncoderShape} from './encoder-shape.js'
import {ElectraGeneratorHead} from './generator-head.js'
import {isDocumentedElectraExtra, withElectraPrefix} from './hf-names.js'

export interface ElectraMlmForward {
  encoder: ElectraEncoderOutput
  /** [M, V] logits at the masked positions (row-major order of the mask). */
  logits: tf.Tensor2D
}

export class ElectraMlmModel {
  readonly params: ParamStore
  readonly electra: ElectraModel
  readonly head: ElectraGeneratorHead
  /** E_G read by the lookup and the decoder with one gradient (../tied-table.ts). */
  private readonly tied: TiedTable

  /** @param opts.role label for init streams and variable names (default 'generator'). */
  constructor(readonly opts: {config: ElectraConfig; seed: number; role?: string}) {
    this.params = new ParamStore({role: opts.role ?? 'generator', seed: opts.seed, std: opts.config.initializerRange})
    this.electra = new ElectraModel({config: opts.config, params: this.params})
    this.head = new ElectraGeneratorHead({config: opts.config, params: this.params})
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

  /**
   * The MLM loss of one batch, usable inside tf.variableGrads / optimizer.minimize (as MlmModel.lossFn).
   * @param maskedInputIds int32 [B·N] generator input; @param labels int32 [M] original ids at the masked positions.
   */
  lossFn(opts: {
    maskedInputIds: Int32Array
    attentionMask: Int32Array | Float32Array
    mlmMask: Int32Array | Uint8Array
    labels: Int32Array
    batch: number
    seqLen: number
    tokenTypeIds?: Int32Array
    ctx: ForwardContext
    keep?: boolean
  }): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: ElectraEncoderOutput} {
    const {batch: B, seqLen: N} = opts
    const positions = maskedPositions(opts.mlmMask)
    if (positions.length !== opts.labels.length) throw new Error(`mlmMask has ${positions.length} masked positions but labels has ${opts.labels.length}`)
    const ctx: ForwardContext = opts.ctx.recompute === undefined ? {...opts.ctx, recompute: this.recomputes(B, N)} : opts.ctx
    const out = tidy(() => {
      const fwd = this.forward({
        inputIds: tf.tensor2d(opts.maskedInputIds, [B, N], 'int32'),
        mask: tf.tensor2d(Float32Array.from(opts.attentionMask), [B, N], 'float32'),
        positions: tf.tensor1d(positions, 'int32'),
        tokenTypeIds: opts.tokenTypeIds ? tf.tensor2d(opts.tokenTypeIds, [B, N], 'int32') : undefined,
        ctx,
      })
      // No masked token: L_MLM = 0, still tied to a parameter so tf.variableGrads finds a (zero) gradient.
      const loss = positions.length === 0 ? (tf.mul(tf.sum(this.head.bias), 0) as tf.Scalar) : mlmLoss({logits: fwd.logits, labels: tf.tensor1d(opts.labels, 'int32')})
      return {loss, logits: fwd.logits, encoder: fwd.encoder}
    })
    if (opts.keep) tf.keep(out.logits), out.encoder.hiddenStates.forEach((t) => tf.keep(t)), tf.keep(out.encoder.embeddingsLn)
    return out
  }

  /** As MlmModel.recomputes: on wasm, all layers when the step would crowd the heap, else every other one; RTD_RECOMPUTE overrides. */
  recomputes(batch: number, seqLen: number): Recompute {
    const env = process.env['RTD_RECOMPUTE']
    if (env === 'on' || env === 'off') return env === 'on'
    if (env === 'alternate') return 'alternate'
    const shape = electraEncoderShape(this.config)
    return autoRecompute({discriminator: {...shape, layers: 1}, generator: shape, batch, seqLen, sharing: 'es'}, tf.getBackend())
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
