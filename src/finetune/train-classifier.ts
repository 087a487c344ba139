/**
 * Fine-tuning one SequenceClassifier with one seed: AdamW (decoupled weight decay, none on
 * biases and LayerNorm), linear warmup then linear decay to 0, gradient clipping, validation
 * every `eval_every` updates (or each epoch), early stopping after `patience` validations
 * without improvement, and the best validation weights restored at the end. Batches are padded
 * to their longest row only, so short texts cost short sequences.
 */
import * as tf from '#tfjs'
import {Interrupted, RuntimeFailure} from '../errors.js'
import type {LabelledSplit} from '../data/labelled/labelled-shard.js'
import {EVAL} from '../model/nn.js'
import type {ProgressBar} from '../plugin/run-context.js'
import {AdamW} from '../train/adamw.js'
import {clipByGlobalNorm} from '../train/clip.js'
import {Rng} from '../util/rng.js'
import {argmaxRows, classificationMetrics} from './classification-metrics.js'
import {SequenceClassifier, type ClassificationBatch} from './sequence-classifier.js'

export const SELECTION_METRICS = ['accuracy', 'macro_f1', 'loss'] as const
export type SelectionMetric = (typeof SELECTION_METRICS)[number]

export interface FinetuneSchedule {
  epochs: number
  batch_size: number
  lr: number
  weight_decay: number
  /** Fraction of the updates (< 1) or a number of updates (>= 1) of linear warmup. */
  warmup: number
  clip_norm: number
  /** Updates between validations; 0 = once per epoch. */
  eval_every: number
  /** Validations without improvement before stopping; 0 = never stop early. */
  patience: number
  metric: SelectionMetric
}

export interface SplitScores {
  loss: number
  accuracy: number
  macro_f1: number
  count: number
}

export interface TrainResult {
  /** Update after which the restored (best) weights were taken. */
  bestStep: number
  best: SplitScores
  steps: number
  stoppedEarly: boolean
  /** Non-pad tokens trained on, and the seconds spent in updates (for tokens/s). */
  tokens: number
  seconds: number
}

/** Rows `idx` of a split as one batch padded to its longest row. */
export function makeBatch(split: LabelledSplit, idx: ArrayLike<number>, pad: number): ClassificationBatch {
  const b = idx.length
  let n = 0
  for (let i = 0; i < b; i++) n = Math.max(n, split.offsets[idx[i] + 1] - split.offsets[idx[i]])
  const ids = new Int32Array(b * n).fill(pad)
  const mask = new Float32Array(b * n)
  const labels = new Int32Array(b)
  for (let i = 0; i < b; i++) {
    const r = idx[i]
    const row = split.ids.subarray(split.offsets[r], split.offsets[r + 1])
    ids.set(row, i * n)
    mask.fill(1, i * n, i * n + row.length)
    labels[i] = split.labels[r]
  }
  return {ids, mask, labels, batch: b, seqLen: n}
}

/** Loss, accuracy and macro-F1 of the model on a whole split (no dropout). */
export function evaluateClassifier(p: {model: SequenceClassifier; split: LabelledSplit; batchSize: number; pad: number}): SplitScores {
  const rows = p.split.labels.length
  const predicted = new Int32Array(rows)
  let lossSum = 0
  for (let start = 0; start < rows; start += p.batchSize) {
    const idx = Int32Array.from({length: Math.min(p.batchSize, rows - start)}, (_, i) => start + i)
    const batch = makeBatch(p.split, idx, p.pad)
    const {logits, loss} = tf.tidy(() => {
      const l = p.model.logits(batch, EVAL)
      return {logits: l.dataSync() as Float32Array, loss: SequenceClassifier.loss(l, batch.labels).dataSync()[0]}
    })
    lossSum += loss * idx.length
    predicted.set(argmaxRows(logits, p.model.numLabels), start)
  }
  const m = classificationMetrics({predicted, truth: p.split.labels, numClasses: p.model.numLabels})
  return {loss: rows > 0 ? lossSum / rows : Number.NaN, accuracy: m.accuracy, macro_f1: m.macro_f1, count: rows}
}

function better(metric: SelectionMetric, a: SplitScores, b: SplitScores | undefined): boolean {
  if (b === undefined) return true
  return metric === 'loss' ? a.loss < b.loss : a[metric] > b[metric]
}

export function warmupLinearLr(p: {step: number; total: number; warmupSteps: number; lr: number}): number {
  if (p.warmupSteps > 0 && p.step < p.warmupSteps) return (p.lr * (p.step + 1)) / p.warmupSteps
  const decay = p.total - p.warmupSteps
  return decay > 0 ? p.lr * Math.max(0, (p.total - p.step) / decay) : p.lr
}

export async function trainClassifier(p: {
  model: SequenceClassifier
  train: LabelledSplit
  validation: LabelledSplit
  schedule: FinetuneSchedule
  seed: number
  pad: number
  signal?: AbortSignal
  progress?: ProgressBar
  /** Each update: step (1-based), loss, learning rate. */
  onStep?: (r: {step: number; epoch: number; loss: number; lr: number}) => void
  onEval?: (r: {step: number; epoch: number; scores: SplitScores; best: boolean}) => void
}): Promise<TrainResult> {
  const {model, schedule: s} = p
  const rows = p.train.labels.length
  const perEpoch = Math.ceil(rows / s.batch_size)
  const total = perEpoch * s.epochs
  const warmupSteps = s.warmup < 1 ? Math.round(s.warmup * total) : Math.round(s.warmup)
  const variables = model.variables()
  const optimizer = new AdamW({variables, weightDecay: s.weight_decay})
  const dropoutRng = Rng.derive(p.seed, 'finetune-dropout')
  const ctx = {training: true, rng: dropoutRng}
  let best: SplitScores | undefined
  let bestStep = 0
  let bestWeights: Map<string, Float32Array> | undefined
  let sinceBest = 0
  let step = 0
  let tokens = 0
  let seconds = 0
  let stoppedEarly = false
  let validatedAt = -1
  const validate = (epoch: number): boolean => {
    validatedAt = step
    const scores = evaluateClassifier({model, split: p.validation, batchSize: s.batch_size * 2, pad: p.pad})
    const isBest = better(s.metric, scores, best)
    p.onEval?.({step, epoch, scores, best: isBest})
    if (isBest) {
      best = scores
      bestStep = step
      bestWeights = new Map([...variables].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]))
      sinceBest = 0
    } else sinceBest++
    return s.patience > 0 && sinceBest >= s.patience
  }
  try {
    outer: for (let epoch = 0; epoch < s.epochs; epoch++) {
      const order = Rng.derive(p.seed, 'finetune-order', epoch).shuffle(Int32Array.from({length: rows}, (_, i) => i)) as Int32Array
      for (let start = 0; start < rows; start += s.batch_size) {
        if (p.signal?.aborted) throw new Interrupted('interrupted while fine-tuning')
        await new Promise((r) => setImmediate(r)) // let Ctrl-C through
        const batch = makeBatch(p.train, order.subarray(start, Math.min(rows, start + s.batch_size)), p.pad)
        const t0 = performance.now()
        const lr = warmupLinearLr({step, total, warmupSteps, lr: s.lr})
        const {loss, grads} = model.lossAndGrads(batch, ctx)
        if (!Number.isFinite(loss)) {
          for (const g of grads.values()) g.dispose()
          throw new RuntimeFailure(`fine-tuning loss is ${loss} at update ${step + 1} (learning rate ${lr.toExponential(2)}).`, {
            code: 'finetune.non_finite_loss',
            suggestions: ['Lower `schedule.lr` or raise the warmup; check that the encoder loaded (a broken checkpoint can overflow).'],
          })
        }
        const clipped = s.clip_norm > 0 ? (await clipByGlobalNorm({grads, maxNorm: s.clip_norm})).grads : grads
        optimizer.step(clipped, lr)
        for (const g of new Set([...grads.values(), ...clipped.values()])) g.dispose()
        seconds += (performance.now() - t0) / 1000
        for (let i = 0; i < batch.mask.length; i++) tokens += batch.mask[i]
        step++
        p.onStep?.({step, epoch, loss, lr})
        p.progress?.update(step, {loss: loss.toFixed(4), epoch: epoch + 1})
        if (s.eval_every > 0 && step % s.eval_every === 0 && validate(epoch)) {
          stoppedEarly = true
          break outer
        }
      }
      if (s.eval_every === 0 && validate(epoch)) {
        stoppedEarly = epoch < s.epochs - 1
        break
      }
    }
    if (validatedAt !== step) validate(s.epochs - 1) // the updates since the last validation
    if (bestWeights) for (const [k, v] of variables) tf.tidy(() => v.assign(tf.tensor(bestWeights!.get(k)!, v.shape, 'float32')))
  } finally {
    optimizer.dispose()
  }
  return {bestStep, best: best!, steps: step, stoppedEarly, tokens, seconds}
}
