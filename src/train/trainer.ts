/**
 * The generic training loop (issue 5): epochs or max_steps, gradient accumulation, AdamW
 * (joint: one optimizer; decoupled: one per group, in group order), LR and loss-weight
 * schedules, global-norm clipping, metrics/progress, evaluation and checkpoint cadences,
 * Ctrl-C (save, then Interrupted), exact resume from the newest checkpoint, and a stop with
 * a RuntimeFailure on a non-finite loss or gradient (no update applied, no checkpoint written).
 *
 * Clipping: joint clips the norm over all groups together; decoupled clips each group's
 * gradients on their own (each official trainer has its own max_grad_norm).
 * A step gathers k micro-batches; at the end of an epoch it takes what is left (fewer), and
 * the next epoch starts with a fresh step. Metrics lines count `step` from 1 (updates done)
 * and `epoch` from 1.
 *
 * Exact resume relies on: variables and optimizer moments saved bit-exactly (float32), the data
 * iterator's position, and the model deriving its randomness from (seed, step, microBatch).
 *
 * The parts: train-step.ts (one update over the phases), checkpoint-io.ts (what a checkpoint
 * holds, save and restore), step-report.ts (metrics lines and progress).
 */
import {ConfigError, Interrupted, RuntimeFailure} from '../errors.js'
import {LOSS_SECTION, SCHEDULE_SECTION} from '../config/config-sections.js'
import type {RunIo} from '../util/run-io.js'
import {withHostCopies} from '../runtime/host-reads.js'
import {loadLatestCheckpoint} from './checkpoint-store.js'
import {checkpointTensors, restoreTrainingCheckpoint, writeTrainingCheckpoint} from './checkpoint-io.js'
import {lossWeights, type LossWeight, type LossWeights} from './loss-weight.js'
import {learningRate, type LrSchedule} from './lr-schedule.js'
import {StepReporter} from './step-report.js'
import {createPhases, runStep, type Phase} from './train-step.js'
import type {BatchIterator, BatchSource, Trainable, TrainingOrder} from './trainable.js'

export interface OptimizerOptions {
  lr: number
  /** Default: AdamW's (the pipeline schema's schedule.optimizer.betas[0]). */
  beta1?: number
  /** Default: AdamW's (schedule.optimizer.betas[1]). */
  beta2?: number
  /** Default: AdamW's (schedule.optimizer.eps). */
  eps?: number
  /** Default: AdamW's (schedule.optimizer.weight_decay). */
  weightDecay?: number
  /** Default: names ending in `.bias` or containing `LayerNorm`. */
  noDecay?: (name: string) => boolean
}

export interface TrainOptions<B> {
  model: Trainable<B>
  data: BatchSource<B>
  /** Where checkpoints go (ctx.runDir), the metrics sink, logger, progress bars and Ctrl-C signal. */
  ctx: RunIo
  /** Default: the pipeline schema's (schedule.training). */
  order?: TrainingOrder
  /** Stop after this many epochs. At least one of epochs / maxSteps. */
  epochs?: number
  /** Stop after this many updates (optimizer steps). */
  maxSteps?: number
  /** Micro-batches per update. Default: the pipeline schema's (schedule.grad_accumulation). */
  gradAccumulation?: number
  optimizer: OptimizerOptions
  /** Default `{type: 'constant'}` (the pipeline's exponential default needs a gamma chosen with the epochs). */
  lrSchedule?: LrSchedule
  /** Loss weights; defaults: the pipeline schema's (loss.mlm_weight, loss.lambda). */
  loss?: {mlm?: LossWeight; rtd?: LossWeight}
  /** Global-norm clip; 0 disables. Default: the pipeline schema's (schedule.clip_norm). */
  maxGradNorm?: number
  /** Write a metrics line every this many updates. Default: the pipeline schema's (schedule.log_every). */
  logEvery?: number
  /** Evaluate every this many updates (0: only at the end). Default: the pipeline schema's (schedule.eval_every). */
  evalEvery?: number
  /** Checkpoint every this many updates (0: only at the end and on Ctrl-C). Default: the pipeline schema's (schedule.checkpoint_every). */
  checkpointEvery?: number
  /** Complete checkpoints kept. Default: the pipeline schema's (schedule.keep). */
  keep?: number
  /** Continue from the newest complete checkpoint in ctx.runDir when there is one. Default true. */
  resume?: boolean
  /** Called at the eval cadence and (unless evaluateAtEnd is false) at the end. */
  evaluate?: (opts: {step: number; final: boolean}) => Promise<Record<string, number>>
  /** Evaluate after the last step too. Default true; false when a later stage does the final evaluation. */
  evaluateAtEnd?: boolean
  /** Written into every checkpoint's state.json (pipeline hash, rtd version, seed...). */
  meta?: Record<string, unknown>
  /** Clock in ms, for tokens/s and ETA. Default performance.now. */
  now?: () => number
}

export interface TrainResult {
  /** Updates applied in total (including before a resume). */
  step: number
  epoch: number
  /** Step of the checkpoint this run resumed from, if any. */
  resumedFrom?: number
  /** Losses of the last update. */
  losses: Record<string, number>
  /** Metrics of the final evaluation, when there is an evaluate callback. */
  evalMetrics?: Record<string, number>
  /** Directory of the final checkpoint. */
  checkpoint?: string
}

/** Steps per epoch and in all (undefined when the data source does not know its length). */
function stepCounts(opts: {batchesPerEpoch?: number; gradAccumulation: number; epochs?: number; maxSteps?: number}): {stepsPerEpoch?: number; totalSteps?: number} {
  const stepsPerEpoch = opts.batchesPerEpoch !== undefined ? Math.ceil(opts.batchesPerEpoch / opts.gradAccumulation) : undefined
  const epochSteps = opts.epochs !== undefined && stepsPerEpoch !== undefined ? opts.epochs * stepsPerEpoch : undefined
  const totalSteps = opts.maxSteps !== undefined ? Math.min(opts.maxSteps, epochSteps ?? Infinity) : epochSteps
  return {stepsPerEpoch, totalSteps}
}

/** Where the loop is: updates done, epoch (0-based), updates in this epoch, data position. */
interface LoopPosition {
  step: number
  epoch: number
  stepInEpoch: number
  position: unknown
}

export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  const {model, data, ctx} = opts
  // defaults: the pipeline schema's (config-sections.ts), so a direct caller trains as a pipeline would
  const dflt = SCHEDULE_SECTION.properties
  const order = opts.order ?? dflt.training.default
  const k = opts.gradAccumulation ?? dflt.grad_accumulation.default
  const maxGradNorm = opts.maxGradNorm ?? dflt.clip_norm.default
  const evalEvery = opts.evalEvery ?? dflt.eval_every.default
  const checkpointEvery = opts.checkpointEvery ?? dflt.checkpoint_every.default
  const schedule: LrSchedule = opts.lrSchedule ?? {type: 'constant'}
  const mlm = opts.loss?.mlm ?? LOSS_SECTION.properties.mlm_weight.default
  const rtd = opts.loss?.rtd ?? LOSS_SECTION.properties.lambda.default
  const weightsOf = (step: number): LossWeights => lossWeights({mlm, rtd, step})

  if (opts.epochs === undefined && opts.maxSteps === undefined) throw new ConfigError('training needs `epochs` or `max_steps`; got neither', {code: 'schedule.length'})
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`gradient accumulation must be a positive integer, got ${k}`, {code: 'schedule.grad_accumulation'})
  const {stepsPerEpoch, totalSteps} = stepCounts({batchesPerEpoch: data.batchesPerEpoch, gradAccumulation: k, epochs: opts.epochs, maxSteps: opts.maxSteps})
  if (schedule.type === 'warmup_linear' && totalSteps === undefined) {
    throw new ConfigError('the warmup_linear schedule needs the total number of steps, but the data source does not know its epoch length', {code: 'schedule.total_steps', suggestions: ['set schedule.max_steps']})
  }

  const groups = model.parameterGroups()
  const phases: Phase[] = createPhases({groups, order, optimizer: opts.optimizer})
  let optimizersDisposed = false
  const disposeOptimizers = (): void => {
    if (!optimizersDisposed) for (const p of phases) p.optimizer.dispose()
    optimizersDisposed = true
  }
  const at: LoopPosition = {step: 0, epoch: 0, stepInEpoch: 0, position: undefined}
  let resumedFrom: number | undefined
  let lastSaved = -1
  let lastSavedDir: string | undefined

  try {
    if (opts.resume !== false) {
      const ckpt = loadLatestCheckpoint({runDir: ctx.runDir, onSkip: (dir, why) => ctx.log.warn(`skipping checkpoint ${dir}: ${why}`)})
      if (ckpt) {
        const st = restoreTrainingCheckpoint({ckpt, groups, phases, order, model})
        Object.assign(at, {step: st.step, epoch: st.epoch, stepInEpoch: st.stepInEpoch, position: st.dataPosition})
        resumedFrom = lastSaved = at.step
        lastSavedDir = ckpt.dir
        ctx.log.info(`resuming from ${ckpt.dir} (step ${at.step}, epoch ${at.epoch + 1})`)
      }
    }

    let losses: Record<string, number> = {}
    let lr = 0
    let weights = weightsOf(at.step)
    const save = async (): Promise<string> => {
      const state = {step: at.step, epoch: at.epoch, stepInEpoch: at.stepInEpoch, dataPosition: at.position, order, lr, weights}
      // webgpu reads asynchronously: the host copies are read before the (synchronous) writer runs
      lastSavedDir = await withHostCopies(checkpointTensors(groups, phases), () => writeTrainingCheckpoint({runDir: ctx.runDir, keep: opts.keep ?? dflt.keep.default, groups, phases, model, meta: opts.meta, state}))
      lastSaved = at.step
      return lastSavedDir
    }
    const interrupted = async (): Promise<never> => {
      if (at.step !== lastSaved) await save()
      throw new Interrupted(`interrupted at step ${at.step}; checkpoint saved in ${lastSavedDir ?? 'none (no step done)'}`)
    }
    const done = (): boolean => (opts.maxSteps !== undefined && at.step >= opts.maxSteps) || (opts.epochs !== undefined && at.epoch >= opts.epochs)
    const report = new StepReporter({ctx, logEvery: Math.max(1, opts.logEvery ?? dflt.log_every.default), epochs: opts.epochs, maxSteps: opts.maxSteps, stepsPerEpoch, totalSteps, startStep: at.step, now: opts.now ?? (() => performance.now())})
    let iterator: BatchIterator<B> | undefined

    while (!done()) {
      if (ctx.signal.aborted) await interrupted()
      if (!iterator) {
        iterator = data.open({epoch: at.epoch, position: at.position})
        report.startEpoch(at.epoch)
      }
      const batches = await nextBatches(iterator, k)
      if (batches.length === 0) {
        if (at.stepInEpoch === 0) throw new RuntimeFailure(`epoch ${at.epoch + 1} yielded no batches`, {code: 'train.empty_epoch', suggestions: ['check the data stage: the training split is empty or smaller than one batch']})
        report.endEpoch()
        Object.assign(at, {epoch: at.epoch + 1, stepInEpoch: 0, position: undefined})
        iterator = undefined
        continue
      }

      weights = weightsOf(at.step)
      lr = learningRate({schedule, step: at.step, epoch: at.epoch, totalSteps: totalSteps ?? 0, baseLr: opts.optimizer.lr})
      const result = await runStep({model, batches, phases, step: at.step, weights, lr, maxGradNorm})
      losses = result.losses
      at.position = iterator.position()
      at.step++
      at.stepInEpoch++
      report.stepDone({step: at.step, epoch: at.epoch, stepInEpoch: at.stepInEpoch, result, weights, lr})

      if (ctx.signal.aborted) await interrupted()
      if (checkpointEvery > 0 && at.step % checkpointEvery === 0) await save()
      if (opts.evaluate && evalEvery > 0 && at.step % evalEvery === 0 && !done()) {
        report.evaluated({step: at.step, epoch: at.epoch + 1, metrics: await opts.evaluate({step: at.step, final: false})})
        if (ctx.signal.aborted) await interrupted()
      }
    }
    report.endEpoch()

    const checkpoint = at.step !== lastSaved ? await save() : lastSavedDir
    // the moments (twice the model) are saved and no longer needed: free them before the final
    // evaluation and the export that follows, which would otherwise peak on top of them
    disposeOptimizers()
    let evalMetrics: Record<string, number> | undefined
    if (opts.evaluate && opts.evaluateAtEnd !== false) {
      evalMetrics = await opts.evaluate({step: at.step, final: true})
      report.evaluated({step: at.step, epoch: Math.min(at.epoch + 1, opts.epochs ?? Infinity), final: true, metrics: evalMetrics})
    }
    return {step: at.step, epoch: at.epoch, resumedFrom, losses, evalMetrics, checkpoint}
  } finally {
    disposeOptimizers()
  }
}

/** Up to k micro-batches (fewer at the end of the epoch, none after it). */
async function nextBatches<B>(iterator: BatchIterator<B>, k: number): Promise<B[]> {
  const batches: B[] = []
  while (batches.length < k) {
    const b = await iterator.next()
    if (b === null) break
    batches.push(b)
  }
  return batches
}
