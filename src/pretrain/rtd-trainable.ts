/**
 * Adapts the DeBERTa generator/discriminator pair (src/model RtdPair) to the generic trainer
 * (src/train Trainable) and to evaluation (Evaluable).
 *
 * Randomness is derived, never stored: masks from Rng.derive(seed, 'mask', step, microBatch),
 * replacement samples from (seed, 'sample', step, microBatch), dropout from
 * (seed, 'dropout', step, microBatch, part). A resumed run therefore sees exactly the masks and
 * samples an uninterrupted run would, and the decoupled discriminator phase re-derives the same
 * mask and reuses the generator phase's samples.
 */
import * as tf from '@tensorflow/tfjs'
import type {Batch} from '../data/batch-iterator.js'
import {maskBatch, type MaskRecipe} from '../data/masking.js'
import type {SpecialTokenIds} from '../data/prepared-data.js'
import {maskedPositions, type RtdPair, type LossPart} from '../model/index.js'
import type {LossAndGrads, LossContext, ParameterGroup, Trainable} from '../train/trainable.js'
import {Rng} from '../util/rng.js'
import type {EvalBatchOutput, Evaluable} from './evaluable.js'
import {mlmTokenStats} from './masked-lm-outputs.js'

export interface MaskOptions {
  rate: number
  recipe: MaskRecipe
}

export interface RtdTrainableOptions {
  pair: RtdPair
  special: SpecialTokenIds
  /** Ids the tokenizer can emit: 80-10-10 random replacements are drawn below this. */
  tokenizerVocabSize: number
  mask: MaskOptions
  temperature: number
  seed: number
}

export class RtdTrainable implements Trainable<Batch>, Evaluable {
  /** Samples of the generator phase of the current decoupled step, by micro-batch. */
  private samplesByMicroBatch = new Map<string, Int32Array>()

  constructor(readonly opts: RtdTrainableOptions) {}

  parameterGroups(): ParameterGroup[] {
    const {pair} = this.opts
    const named = (vars: tf.Variable[]): Map<string, tf.Variable> => new Map(vars.map((v) => [pair.hfName(v)!.name, v]))
    return [
      {name: 'generator', variables: named(pair.generatorVariables())},
      {name: 'discriminator', variables: named(pair.discriminatorVariables())},
    ]
  }

  private mask(batch: Batch, rng: Rng) {
    const {special, tokenizerVocabSize, mask} = this.opts
    return maskBatch({
      inputIds: batch.inputIds,
      attentionMask: batch.attentionMask,
      batchSize: batch.batchSize,
      seqLen: batch.seqLen,
      special,
      vocabSize: tokenizerVocabSize,
      recipe: mask.recipe,
      rate: mask.rate,
      rng,
    })
  }

  computeLossAndGrads(batch: Batch, ctx: LossContext): LossAndGrads {
    const {pair, seed} = this.opts
    const {step, microBatch} = ctx
    const wantGen = ctx.groups.includes('generator')
    const wantDisc = ctx.groups.includes('discriminator')
    const part: LossPart = wantGen && wantDisc ? 'joint' : wantGen ? 'generator' : 'discriminator'
    const sampleKey = `${step}/${microBatch}`
    if (part !== 'discriminator' && microBatch === 0) this.samplesByMicroBatch.clear()
    const masked = this.mask(batch, Rng.derive(seed, 'mask', step, microBatch))
    const groups = this.parameterGroups().filter((g) => ctx.groups.includes(g.name))
    const varList = groups.flatMap((g) => [...g.variables.values()])
    const losses: Record<string, number> = {}
    const {value, grads} = tf.variableGrads(() => {
      const res = pair.lossFn({
        inputIds: batch.inputIds,
        maskedInputIds: masked.maskedIds,
        attentionMask: batch.attentionMask,
        mlmMask: masked.mlmMask,
        batch: batch.batchSize,
        seqLen: batch.seqLen,
        lambda: ctx.weights.rtd,
        mlmWeight: ctx.weights.mlm,
        temperature: this.opts.temperature,
        samples: part === 'discriminator' ? this.samplesByMicroBatch.get(sampleKey) : undefined,
        sampleRng: Rng.derive(seed, 'sample', step, microBatch),
        training: true,
        dropoutRng: Rng.derive(seed, 'dropout', step, microBatch, part),
        part,
      })
      if (part === 'generator') this.samplesByMicroBatch.set(sampleKey, res.samples)
      if (res.lossMlm) losses.mlm = res.lossMlm.dataSync()[0]
      if (res.lossRtd) losses.rtd = res.lossRtd.dataSync()[0]
      return res.loss
    }, varList)
    losses.loss = value.dataSync()[0]
    value.dispose()
    const byGroup = new Map<string, Map<string, tf.Tensor>>()
    for (const g of groups) byGroup.set(g.name, new Map())
    for (const [tfName, grad] of Object.entries(grads)) {
      const where = pair.hfName(tfName)
      const target = where && byGroup.get(where.role)
      if (!where || !target) {
        grad.dispose()
        continue
      }
      target.set(where.name, grad)
    }
    let tokens = 0
    for (let k = 0; k < batch.attentionMask.length; k++) tokens += batch.attentionMask[k]
    return {grads: byGroup, losses, tokens}
  }

  evaluateBatch(batch: Batch, opts: {seed: number; index: number}): EvalBatchOutput {
    const {pair} = this.opts
    const masked = this.mask(batch, Rng.derive(opts.seed, 'eval-mask', opts.index))
    const res = pair.lossFn({
      inputIds: batch.inputIds,
      maskedInputIds: masked.maskedIds,
      attentionMask: batch.attentionMask,
      mlmMask: masked.mlmMask,
      batch: batch.batchSize,
      seqLen: batch.seqLen,
      lambda: 1,
      temperature: this.opts.temperature,
      sampleRng: Rng.derive(opts.seed, 'eval-sample', opts.index),
      training: false,
      keep: true,
    })
    try {
      const positions = maskedPositions(masked.mlmMask)
      const original = Int32Array.from(positions, (p) => batch.inputIds[p])
      const out: EvalBatchOutput = {
        discriminator: {logits: res.rtdLogits!.dataSync() as Float32Array, labels: res.rtdLabels, mask: batch.attentionMask},
      }
      if (res.mlmLogits && positions.length > 0) {
        const [rows, vocab] = res.mlmLogits.shape
        const stats = mlmTokenStats({logits: res.mlmLogits.dataSync() as Float32Array, rows, vocab, labels: original})
        out.generator = {...stats, original, sampled: res.samples}
      }
      return out
    } finally {
      res.dispose()
    }
  }
}
