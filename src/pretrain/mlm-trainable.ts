/**
 * Adapts a plain DeBERTa masked-language model (src/model MlmModel) to the trainer and to
 * evaluation: the `mlm` baseline the DeBERTaV3 paper compares RTD against. Masks derive from
 * (seed, 'mask', step, microBatch) as in RtdTrainable, so both objectives see the same masks.
 */
import * as tf from '#tfjs'
import type {Batch} from '../data/batch-iterator.js'
import type {SpecialTokenIds} from '../data/prepared-data.js'
import {maskedPositions} from '../model/masked-positions.js'
import type {MaskedLmNet} from '../plugin/architecture.js'
import type {Recompute} from '../model/nn.js'
import type {LossAndGrads, LossContext, ParameterGroup, Trainable} from '../train/trainable.js'
import {Rng} from '../util/rng.js'
import {frobeniusNorm, gradientNorms} from '../eval/embedding-diagnostics.js'
import type {EmbeddingDiagnosable, EvalBatchOutput, Evaluable} from '../eval/evaluable.js'
import {mlmTokenStats} from './masked-lm-outputs.js'
import {readScalars} from '../runtime/host-reads.js'
import {maskForTraining, maskedBatchInputs, tokenCount, type MaskOptions} from './mask-for-training.js'

export interface MlmTrainableOptions {
  model: MaskedLmNet<unknown>
  special: SpecialTokenIds
  tokenizerVocabSize: number
  mask: MaskOptions
  seed: number
  /** Layer recomputation for training steps; default: the model's auto rule. */
  recompute?: Recompute
}

export class MlmTrainable implements Trainable<Batch>, Evaluable, EmbeddingDiagnosable {
  constructor(readonly opts: MlmTrainableOptions) {}

  parameterGroups(): ParameterGroup[] {
    const {model} = this.opts
    return [{name: 'model', variables: new Map(model.variables().map((v) => [model.params.nameOf(v.name)!, v]))}]
  }

  private prepare(batch: Batch, rng: Rng) {
    const {special, tokenizerVocabSize, mask} = this.opts
    const masked = maskForTraining({batch, special, tokenizerVocabSize, mask, rng})
    const positions = maskedPositions(masked.mlmMask)
    return {masked, labels: Int32Array.from(positions, (p) => batch.inputIds[p])}
  }

  async computeLossAndGrads(batch: Batch, ctx: LossContext): Promise<LossAndGrads> {
    const {model, seed} = this.opts
    const {masked, labels} = this.prepare(batch, Rng.derive(seed, 'mask', ctx.step, ctx.microBatch))
    const group = this.parameterGroups()[0]
    let mlmLoss: tf.Tensor | undefined
    const {value, grads} = tf.variableGrads(() => {
      const res = model.lossFn({
        ...maskedBatchInputs(batch, masked),
        labels,
        ctx: {training: true, rng: Rng.derive(seed, 'dropout', ctx.step, ctx.microBatch, 'mlm'), ...(this.opts.recompute !== undefined ? {recompute: this.opts.recompute} : {})},
      })
      mlmLoss = tf.keep(res.loss) // read with the loss after the backward pass: one read per step
      return tf.mul(res.loss, ctx.weights.mlm) as tf.Scalar
    }, [...group.variables.values()])
    const [mlm, loss] = await readScalars([mlmLoss!, value])
    tf.dispose([mlmLoss!, value])
    const named = new Map<string, tf.Tensor>()
    for (const [tfName, g] of Object.entries(grads)) named.set(model.params.nameOf(tfName)!, g)
    return {grads: new Map([[group.name, named]]), losses: {loss, mlm}, tokens: tokenCount(batch)}
  }

  async evaluateBatch(batch: Batch, opts: {seed: number; index: number}): Promise<EvalBatchOutput> {
    const {model} = this.opts
    const {masked, labels} = this.prepare(batch, Rng.derive(opts.seed, 'eval-mask', opts.index))
    if (labels.length === 0) return {}
    const res = model.lossFn({
      ...maskedBatchInputs(batch, masked),
      labels,
      ctx: {training: false},
      keep: true,
    })
    try {
      const [rows, vocab] = res.logits.shape
      const stats = mlmTokenStats({logits: (await res.logits.data()) as Float32Array, rows, vocab, labels})
      return {generator: {...stats, original: labels}}
    } finally {
      res.loss.dispose()
      res.logits.dispose()
      res.encoder.hiddenStates.forEach((t) => t.dispose())
    }
  }

  /** The MLM-only baseline's side of the embedding diagnostics: ‖E_G‖ and the gradient norm L_MLM sends into it (eval masks of batch 0). */
  async embeddingDiagnostics(batch: Batch, opts: {seed: number}): Promise<Record<string, number>> {
    const {model} = this.opts
    const table = model.embeddingTables().word
    if (!table) return {}
    const out: Record<string, number> = {emb_norm_g: await frobeniusNorm(table)}
    const {masked, labels} = this.prepare(batch, Rng.derive(opts.seed, 'eval-mask', 0))
    if (labels.length === 0) return out
    out.emb_grad_mlm_g = (await gradientNorms(() => model.lossFn({...maskedBatchInputs(batch, masked), labels, ctx: {training: false}}).loss, {g: table})).g
    return out
  }
}
