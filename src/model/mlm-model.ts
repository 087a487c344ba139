/**
 * A masked-language model: DebertaV2Model + the `lm_predictions.lm_head` head with the decoder
 * tied to its own word table. It is the RTD generator, and on its own the `mlm` baseline.
 * Logits are computed only at the masked positions ([M, V], not [B·N, V]).
 */
import * as tf from '@tensorflow/tfjs'
import type {DebertaConfig} from './config.js'
import {DebertaModel, type EncoderOutput} from './deberta-model.js'
import {isDocumentedExtra, loadIntoStore, toHost, withDebertaPrefix, type HostTensorLike} from './hf-tensors.js'
import {mlmLoss} from './losses.js'
import {MlmHead} from './mlm-head.js'
import {tidy, type ForwardContext, type Recompute} from './nn.js'
import {ParamStore} from './params.js'
import {TiedTable} from './tied-table.js'
import {autoRecompute} from '../runtime/memory-estimate.js'
import {encoderShapeOf} from './encoder-shape.js'
import {maskedPositions} from './masked-positions.js'
import type {MaskedLmNet, TableName} from './architecture.js'

export {maskedPositions}

export interface MlmForward {
  encoder: EncoderOutput
  /** [M, V] logits at the masked positions (row-major order of the mask). */
  logits: tf.Tensor2D
}

export class MlmModel implements MaskedLmNet<DebertaConfig> {
  readonly params: ParamStore
  readonly deberta: DebertaModel
  readonly head: MlmHead

  /** @param opts.role label for init streams and variable names (default 'generator'). */
  constructor(readonly opts: {config: DebertaConfig; seed: number; role?: string}) {
    this.params = new ParamStore({role: opts.role ?? 'generator', seed: opts.seed, std: opts.config.initializerRange})
    this.deberta = new DebertaModel({config: opts.config, params: this.params})
    this.head = new MlmHead({config: opts.config, params: this.params})
    this.tied = new TiedTable(this.wordTable())
    this.deberta.embeddings.tie = this.tied
  }

  /** E_G read by the lookup and the decoder with one gradient (tied-table.ts). */
  private readonly tied: TiedTable

  get config(): DebertaConfig {
    return this.opts.config
  }

  /** The word table E_G (also the tied decoder). */
  wordTable(): tf.Variable {
    return this.deberta.embeddings.wordTable()
  }

  variables(): tf.Variable[] {
    return [...this.params.vars.values()]
  }

  /** DeBERTa shares the word table, and the absolute position table when the config has one. */
  embeddingTables(): Partial<Record<TableName, tf.Variable>> {
    const e = this.deberta.embeddings
    return {word: e.wordTable(), ...(e.position ? {position: e.positionTable()} : {})}
  }

  /**
   * @param inputIds int32 [B, N] (the masked input); @param mask float32 [B, N];
   * @param positions int32 [M] flat row indices (b·N + i) to predict.
   */
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; positions: tf.Tensor1D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): MlmForward {
    return tidy(() => {
      const encoder = this.deberta.apply(opts)
      const rows = tf.gather(encoder.last, opts.positions) // [M, H]
      const logits = this.head.apply({h: rows, wordTable: this.wordTable(), ctx: opts.ctx, tie: this.tied})
      return {encoder, logits}
    })
  }

  /**
   * The MLM loss of one batch, usable inside tf.variableGrads / optimizer.minimize.
   * @param maskedInputIds int32 [B·N] generator input; @param labels int32 [M] original ids at the masked positions;
   * @param mlmMask [B·N] 1 at masked positions; @param attentionMask [B·N] 1 at tokens.
   * Tensors other than `loss` live in the caller's tidy scope unless `keep` is set (then dispose them).
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
  }): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: EncoderOutput} {
    const {batch: B, seqLen: N} = opts
    const positions = maskedPositions(opts.mlmMask)
    if (positions.length !== opts.labels.length) throw new Error(`mlmMask has ${positions.length} masked positions but labels has ${opts.labels.length}`)
    // ctx.recompute unset: 'auto' as RtdPair (and the mlm stage's memory check) decide it
    const ctx: ForwardContext = opts.ctx.recompute === undefined ? {...opts.ctx, recompute: this.recomputes(B, N)} : opts.ctx
    const out = tidy(() => {
      const fwd = this.forward({
        inputIds: tf.tensor2d(opts.maskedInputIds, [B, N], 'int32'),
        mask: tf.tensor2d(Float32Array.from(opts.attentionMask), [B, N], 'float32'),
        positions: tf.tensor1d(positions, 'int32'),
        tokenTypeIds: opts.tokenTypeIds ? tf.tensor2d(opts.tokenTypeIds, [B, N], 'int32') : undefined,
        ctx,
      })
      // No masked token in the batch: L_MLM = 0 (not the NaN of an empty mean), still tied to a
      // parameter so that tf.variableGrads finds a (zero) gradient.
      const loss = positions.length === 0 ? (tf.mul(tf.sum(this.head.bias), 0) as tf.Scalar) : mlmLoss({logits: fwd.logits, labels: tf.tensor1d(opts.labels, 'int32')})
      return {loss, logits: fwd.logits, encoder: fwd.encoder}
    })
    if (opts.keep) tf.keep(out.logits), out.encoder.hiddenStates.forEach((t) => tf.keep(t))
    return out
  }

  /**
   * Which layers a training step of this model alone recomputes when the caller's ctx does not
   * say: on wasm all of them when the step would crowd the heap (memory-estimate.ts, with the
   * shapes the mlm stage's memory check uses), else every other one; RTD_RECOMPUTE=on|off|alternate overrides.
   */
  recomputes(batch: number, seqLen: number): Recompute {
    const env = process.env['RTD_RECOMPUTE']
    if (env === 'on' || env === 'off') return env === 'on'
    if (env === 'alternate') return 'alternate'
    const shape = encoderShapeOf(this.config)
    return autoRecompute({discriminator: {...shape, layers: 1}, generator: shape, batch, seqLen, sharing: 'es'}, tf.getBackend())
  }

  /** Loads HF-named tensors (`deberta.*`, `lm_predictions.lm_head.*`); returns notes on ignored extras. */
  loadTensors(tensors: Map<string, HostTensorLike>): string[] {
    return loadIntoStore({store: this.params, tensors: withDebertaPrefix(tensors), role: 'generator', isDocumentedExtra: (k) => isDocumentedExtra(k, 'generator')})
  }

  /** All parameters as HF-named host tensors (a Hugging Face export of this model). */
  exportTensors(): Map<string, HostTensorLike> {
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.params.vars) out.set(k, toHost(v))
    return out
  }

  dispose(): void {
    this.params.dispose()
  }
}
