/**
 * What the training loop tells the user: a metrics.jsonl `train` line every `logEvery` steps
 * (losses, loss weights, lr, gradient norms, tokens/s over the window since the last line),
 * `eval` lines, and a progress bar per epoch (or one for a run shorter than its epoch) that
 * updates every step with the losses, tokens/s of the step and an ETA.
 */
import type {MetricsSink, ProgressBar, RunIo} from '../util/run-io.js'
import type {LossWeights} from './loss-weight.js'
import type {StepResult} from './train-step.js'

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  const s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`
}

function round(x: number, digits = 5): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x
}

export class StepReporter {
  private readonly metrics: MetricsSink
  private readonly startTime: number
  private windowStart: number
  private windowTokens = 0
  private bar: ProgressBar | undefined
  /** A run shorter than its epoch counts its steps, not the epoch's. */
  private readonly shortRun: boolean

  constructor(
    private readonly opts: {
      ctx: Pick<RunIo, 'metrics' | 'progress'>
      logEvery: number
      epochs?: number
      maxSteps?: number
      stepsPerEpoch?: number
      totalSteps?: number
      /** Updates done before this run (a resumed run's ETA counts only its own steps). */
      startStep: number
      now: () => number
    },
  ) {
    this.metrics = opts.ctx.metrics
    this.startTime = opts.now()
    this.windowStart = opts.now()
    this.shortRun = opts.maxSteps !== undefined && (opts.stepsPerEpoch === undefined || opts.maxSteps < opts.stepsPerEpoch)
  }

  /** A new progress bar for epoch `epoch` (0-based). */
  startEpoch(epoch: number): void {
    const {epochs, maxSteps, stepsPerEpoch} = this.opts
    const label = this.shortRun ? 'train' : epochs !== undefined ? `epoch ${epoch + 1}/${epochs}` : `epoch ${epoch + 1}`
    this.bar = this.opts.ctx.progress({label, total: this.shortRun ? maxSteps : stepsPerEpoch, unit: 'step'})
  }

  endEpoch(): void {
    this.bar?.stop()
  }

  /** After update `step` (counted from 1), the `stepInEpoch`-th of epoch `epoch` (0-based). */
  stepDone(p: {step: number; epoch: number; stepInEpoch: number; result: StepResult; weights: LossWeights; lr: number}): void {
    const {step, epoch, stepInEpoch, result: r, weights, lr} = p
    const {losses} = r
    const now = this.opts.now
    this.windowTokens += r.tokens
    if (step % this.opts.logEvery === 0) {
      const t = now()
      const record: Record<string, unknown> = {type: 'train', step, epoch: epoch + 1, loss: losses.loss}
      for (const [name, v] of Object.entries(losses)) if (name !== 'loss') record[`loss_${name}`] = v
      Object.assign(record, {lambda: weights.rtd, mlm_weight: weights.mlm, lr, ...r.gradNorms, tokens_per_s: this.windowTokens / Math.max(1e-9, (t - this.windowStart) / 1000)})
      this.metrics.write(record)
      this.windowStart = t
      this.windowTokens = 0
    }
    const elapsed = now() - this.startTime
    const remaining = this.opts.totalSteps !== undefined ? this.opts.totalSteps - step : NaN
    this.bar?.update(this.shortRun ? step : stepInEpoch, {
      step,
      loss: round(losses.loss, 4),
      ...Object.fromEntries(Object.entries(losses).filter(([n]) => n !== 'loss').map(([n, v]) => [n, round(v, 4)])),
      lambda: round(weights.rtd, 4),
      lr: lr.toExponential(2),
      'tok/s': Math.round(r.tokens / Math.max(1e-9, r.seconds)),
      eta: formatDuration((elapsed / (step - this.opts.startStep)) * remaining),
    })
  }

  /** An `eval` line; `epoch` counts from 1. */
  evaluated(p: {step: number; epoch: number; final?: boolean; metrics: Record<string, number>}): void {
    this.metrics.write({type: 'eval', step: p.step, epoch: p.epoch, ...(p.final ? {final: true} : {}), ...p.metrics})
  }
}
