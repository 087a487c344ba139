/**
 * A masked-language model: DebertaV2Model + the `lm_predictions.lm_head` head with the decoder
 * tied to its own word table. It is the RTD generator, and on its own the `mlm` baseline.
 * Logits are computed only at the masked positions ([M, V], not [B·N, V]).
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {DebertaModel, type EncoderOutput} from './deberta-model.js'
import {isDocumentedExtra, loadIntoStore, toHost, withDebertaPrefix, type HostTensorLike} from './hf-tensors.js'
import {maskedLmLoss, maskedLmRecompute, type MaskedLmLossOptions} from './masked-lm-loss.js'
import {MlmHead} from './mlm-head.js'
import {tidy, type ForwardContext, type Recompute} from './nn.js'
import {ParamStore} from './params.js'
import {TiedTable} from './tied-table.js'
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

  /** The MLM loss of one batch (masked-lm-loss.ts), usable inside tf.variableGrads / optimizer.minimize. */
  lossFn(opts: MaskedLmLossOptions): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: EncoderOutput} {
    return maskedLmLoss(this, opts)
  }

  /** Layers a step of this model alone recomputes when the ctx does not say (masked-lm-loss.ts). */
  recomputes(batch: number, seqLen: number): Recompute {
    return maskedLmRecompute(encoderShapeOf(this.config), batch, seqLen)
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
