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
 */
import * as tf from '@tensorflow/tfjs'
import type {TensorToWrite} from '../checkpoint/safetensors.js'
import {ConfigError, Interrupted, RuntimeFailure} from '../errors.js'
import type {Logger, MetricsSink, RunContext} from '../plugin/run-context.js'
import {AdamW, type AdamWState} from './adamw.js'
import {loadLatestCheckpoint, saveCheckpoint, type LoadedCheckpoint} from './checkpoint-store.js'
import {clipByGlobalNorm} from './clip.js'
import {withHostCopies} from '../runtime/host-reads.js'
import {GradAccumulator} from './grad-accumulator.js'
import {lossWeights, type LossWeight, type LossWeights} from './loss-weight.js'
import {learningRate, type LrSchedule} from './lr-schedule.js'
import type {BatchIterator, BatchSource, LossAndGrads, ParameterGroup, Trainable, TrainingOrder} from './trainable.js'

export interface OptimizerOptions {
  lr: number
  /** Default 0.9. */
  beta1?: number
  /** Default 0.999. */
  beta2?: number
  /** Default 1e-6. */
  eps?: number
  /** Default 0.01. */
  weightDecay?: number
  /** Default: names ending in `.bias` or containing `LayerNorm`. */
  noDecay?: (name: string) => boolean
}

export interface TrainOptions<B> {
  model: Trainable<B>
  data: BatchSource<B>
  /** Where checkpoints go (ctx.runDir), the metrics sink, logger, progress bars and Ctrl-C signal. */
  ctx: Pick<RunContext, 'runDir' | 'metrics' | 'log' | 'signal' | 'progress'>
  /** Default `joint`. */
  order?: TrainingOrder
  /** Stop after this many epochs. At least one of epochs / maxSteps. */
  epochs?: number
  /** Stop after this many updates (optimizer steps). */
  maxSteps?: number
  /** Micro-batches per update. Default 1. */
  gradAccumulation?: number
  optimizer: OptimizerOptions
  /** Default `{type: 'constant'}`. */
  lrSchedule?: LrSchedule
  /** Loss weights; defaults mlm 1, rtd 1. */
  loss?: {mlm?: LossWeight; rtd?: LossWeight}
  /** Global-norm clip; 0 disables. Default 1.0. */
  maxGradNorm?: number
  /** Write a metrics line every this many updates. Default 1. */
  logEvery?: number
  /** Evaluate every this many updates (0: only at the end). Default 0. */
  evalEvery?: number
  /** Checkpoint every this many updates (0: only at the end and on Ctrl-C). Default 0. */
  checkpointEvery?: number
  /** Complete checkpoints kept. Default 2. */
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

/** state.json as the trainer writes it (plus `meta` fields). */
interface TrainerState {
  step: number
  epoch: number
  stepInEpoch: number
  dataPosition: unknown
  order: TrainingOrder
  optimizerSteps: Record<string, Record<string, number>>
  modelState?: unknown
  lr: number
  weights: LossWeights
}

const MODEL_FILE = 'model.safetensors'
const optimizerFile = (name: string): string => `optimizer-${name}.safetensors`
const key = (group: string, name: string): string => `${group}/${name}`

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

/** One optimizer and the groups it updates. */
interface Phase {
  name: string
  groups: ParameterGroup[]
  optimizer: AdamW
}

export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  const {model, data, ctx} = opts
  const order = opts.order ?? 'joint'
  const k = opts.gradAccumulation ?? 1
  const maxGradNorm = opts.maxGradNorm ?? 1.0
  const logEvery = Math.max(1, opts.logEvery ?? 1)
  const evalEvery = opts.evalEvery ?? 0
  const checkpointEvery = opts.checkpointEvery ?? 0
  const schedule: LrSchedule = opts.lrSchedule ?? {type: 'constant'}
  const weightsOf = (step: number): LossWeights => lossWeights({mlm: opts.loss?.mlm ?? 1, rtd: opts.loss?.rtd ?? 1, step})
  const now = opts.now ?? (() => performance.now())
  const log: Logger = ctx.log
  const metrics: MetricsSink = ctx.metrics

  if (opts.epochs === undefined && opts.maxSteps === undefined) throw new ConfigError('training needs `epochs` or `max_steps`; got neither', {code: 'schedule.length'})
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`gradient accumulation must be a positive integer, got ${k}`, {code: 'schedule.grad_accumulation'})
  const stepsPerEpoch = data.batchesPerEpoch !== undefined ? Math.ceil(data.batchesPerEpoch / k) : undefined
  const epochSteps = opts.epochs !== undefined && stepsPerEpoch !== undefined ? opts.epochs * stepsPerEpoch : undefined
  const totalSteps = opts.maxSteps !== undefined ? Math.min(opts.maxSteps, epochSteps ?? Infinity) : epochSteps
  if (schedule.type === 'warmup_linear' && totalSteps === undefined) {
    throw new ConfigError('the warmup_linear schedule needs the total number of steps, but the data source does not know its epoch length', {code: 'schedule.total_steps', suggestions: ['set schedule.max_steps']})
  }

  // optimizers: joint = one over all groups; decoupled = one per group, in group order
  const groups = model.parameterGroups()
  const adamw = (gs: ParameterGroup[]): AdamW => {
    const variables = new Map<string, tf.Variable>()
    for (const g of gs) for (const [n, v] of g.variables) variables.set(key(g.name, n), v)
    const noDecay = opts.optimizer.noDecay
    return new AdamW({...opts.optimizer, variables, noDecay: noDecay && ((name: string) => noDecay(name.slice(name.indexOf('/') + 1)))})
  }
  const phases: Phase[] = order === 'joint' ? [{name: 'joint', groups, optimizer: adamw(groups)}] : groups.map((g) => ({name: g.name, groups: [g], optimizer: adamw([g])}))

  let step = 0
  let epoch = 0
  let stepInEpoch = 0
  let position: unknown = undefined
  let resumedFrom: number | undefined
  let lastSaved = -1
  let lastSavedDir: string | undefined

  try {
    if (opts.resume !== false) {
      const ckpt = loadLatestCheckpoint({runDir: ctx.runDir, onSkip: (dir, why) => log.warn(`skipping checkpoint ${dir}: ${why}`)})
      if (ckpt) {
        const st = restore(ckpt, groups, phases, order, model)
        ;({step, epoch, stepInEpoch} = st)
        position = st.dataPosition
        resumedFrom = step
        lastSaved = step
        lastSavedDir = ckpt.dir
        log.info(`resuming from ${ckpt.dir} (step ${step}, epoch ${epoch + 1})`)
      }
    }

    let losses: Record<string, number> = {}
    let lr = 0
    let weights = weightsOf(step)
    const save = async (): Promise<string> => {
      // webgpu reads asynchronously: the host copies are read before the (synchronous) writer runs
      const dir = await withHostCopies(checkpointTensors(groups, phases), () => writeCheckpoint({runDir: ctx.runDir, keep: opts.keep, groups, phases, model, meta: opts.meta, state: {step, epoch, stepInEpoch, dataPosition: position, order, lr, weights}}))
      lastSaved = step
      lastSavedDir = dir
      return dir
    }
    const interrupted = async (): Promise<never> => {
      if (step !== lastSaved) await save()
      throw new Interrupted(`interrupted at step ${step}; checkpoint saved in ${lastSavedDir ?? 'none (no step done)'}`)
    }
    const done = (): boolean => (opts.maxSteps !== undefined && step >= opts.maxSteps) || (opts.epochs !== undefined && epoch >= opts.epochs)

    const startTime = now()
    const startStep = step
    let windowStart = now()
    let windowTokens = 0
    let iterator: BatchIterator<B> | undefined
    let bar: ReturnType<RunContext['progress']> | undefined
    // A run shorter than its epoch counts its steps, not the epoch's.
    const shortRun = opts.maxSteps !== undefined && (stepsPerEpoch === undefined || opts.maxSteps < stepsPerEpoch)
    const openBar = (): void => {
      const label = shortRun ? 'train' : opts.epochs !== undefined ? `epoch ${epoch + 1}/${opts.epochs}` : `epoch ${epoch + 1}`
      bar = ctx.progress({label, total: shortRun ? opts.maxSteps : stepsPerEpoch, unit: 'step'})
    }

    while (!done()) {
      if (ctx.signal.aborted) await interrupted()
      if (!iterator) {
        iterator = data.open({epoch, position})
        openBar()
      }
      const batches: B[] = []
      while (batches.length < k) {
        const b = await iterator.next()
        if (b === null) break
        batches.push(b)
      }
      if (batches.length === 0) {
        if (stepInEpoch === 0) throw new RuntimeFailure(`epoch ${epoch + 1} yielded no batches`, {code: 'train.empty_epoch', suggestions: ['check the data stage: the training split is empty or smaller than one batch']})
        bar?.stop()
        epoch++
        stepInEpoch = 0
        position = undefined
        iterator = undefined
        continue
      }

      weights = weightsOf(step)
      lr = learningRate({schedule, step, epoch, totalSteps: totalSteps ?? 0, baseLr: opts.optimizer.lr})
      const r = await runStep({model, batches, phases, step, weights, lr, maxGradNorm})
      losses = r.losses
      position = iterator.position()
      step++
      stepInEpoch++
      windowTokens += r.tokens

      if (step % logEvery === 0) {
        const t = now()
        const record: Record<string, unknown> = {type: 'train', step, epoch: epoch + 1, loss: losses.loss}
        for (const [name, v] of Object.entries(losses)) if (name !== 'loss') record[`loss_${name}`] = v
        Object.assign(record, {lambda: weights.rtd, mlm_weight: weights.mlm, lr, ...r.gradNorms, tokens_per_s: windowTokens / Math.max(1e-9, (t - windowStart) / 1000)})
        metrics.write(record)
        windowStart = t
        windowTokens = 0
      }
      const elapsed = now() - startTime
      const remaining = totalSteps !== undefined ? totalSteps - step : NaN
      bar?.update(shortRun ? step : stepInEpoch, {
        step,
        loss: round(losses.loss, 4),
        ...Object.fromEntries(Object.entries(losses).filter(([n]) => n !== 'loss').map(([n, v]) => [n, round(v, 4)])),
        lambda: round(weights.rtd, 4),
        lr: lr.toExponential(2),
        'tok/s': Math.round(r.tokens / Math.max(1e-9, r.seconds)),
        eta: formatDuration((elapsed / (step - startStep)) * remaining),
      })

      if (ctx.signal.aborted) await interrupted()
      if (checkpointEvery > 0 && step % checkpointEvery === 0) await save()
      if (opts.evaluate && evalEvery > 0 && step % evalEvery === 0 && !done()) {
        const m = await opts.evaluate({step, final: false})
        metrics.write({type: 'eval', step, epoch: epoch + 1, ...m})
        if (ctx.signal.aborted) await interrupted()
      }
    }
    bar?.stop()

    const checkpoint = step !== lastSaved ? await save() : lastSavedDir
    let evalMetrics: Record<string, number> | undefined
    if (opts.evaluate && opts.evaluateAtEnd !== false) {
      evalMetrics = await opts.evaluate({step, final: true})
      metrics.write({type: 'eval', step, epoch: Math.min(epoch + 1, opts.epochs ?? Infinity), final: true, ...evalMetrics})
    }
    return {step, epoch, resumedFrom, losses, evalMetrics, checkpoint}
  } finally {
    for (const p of phases) p.optimizer.dispose()
  }
}

/** One update: every phase over every micro-batch, then clip and step that phase's optimizer. */
async function runStep<B>(params: {model: Trainable<B>; batches: B[]; phases: Phase[]; step: number; weights: LossWeights; lr: number; maxGradNorm: number}): Promise<{losses: Record<string, number>; tokens: number; seconds: number; gradNorms: Record<string, number>}> {
  const {model, batches, phases, step, weights, lr, maxGradNorm} = params
  const t0 = performance.now()
  const losses: Record<string, number> = {}
  const gradNorms: Record<string, number> = {}
  let tokens = 0
  for (const [pi, phase] of phases.entries()) {
    const groupNames = phase.groups.map((g) => g.name)
    const acc = new GradAccumulator()
    const sums: Record<string, number> = {}
    try {
      for (const [i, batch] of batches.entries()) {
        const r: LossAndGrads = await model.computeLossAndGrads(batch, {step, weights, training: true, groups: groupNames, microBatch: i})
        const flat = new Map<string, tf.Tensor>()
        for (const [g, grads] of r.grads) {
          for (const [n, t] of grads) {
            if (groupNames.includes(g)) flat.set(key(g, n), t)
            else t.dispose() // a gradient nobody asked for
          }
        }
        acc.add(flat)
        for (const [n, v] of Object.entries(r.losses)) sums[n] = (sums[n] ?? 0) + v
        if (pi === 0) tokens += r.tokens
      }
      const phaseLosses = Object.fromEntries(Object.entries(sums).map(([n, v]) => [n, v / batches.length]))
      const bad = Object.entries(phaseLosses).filter(([, v]) => !Number.isFinite(v))
      if (bad.length > 0) {
        const terms = Object.entries({...losses, ...phaseLosses}).map(([n, v]) => `${n}=${v}`).join(', ')
        throw new RuntimeFailure(`non-finite loss at step ${step + 1} (${terms}); no update was applied`, {
          code: 'train.non_finite_loss',
          suggestions: ['lower the learning rate or lambda, or enable gradient clipping', 'the last good checkpoint is still in <run-dir>/checkpoints; resume from it after changing the pipeline'],
        })
      }
      // merge: the objectives add up (L = w·L_MLM + λ·L_RTD); the terms come from their own phase
      for (const [n, v] of Object.entries(phaseLosses)) losses[n] = n === 'loss' ? (losses[n] ?? 0) + v : (losses[n] ?? v)
      const mean = acc.take()
      let clipped: Map<string, tf.Tensor> | undefined
      try {
        const c = await clipByGlobalNorm({grads: mean, maxNorm: maxGradNorm})
        clipped = c.grads
        gradNorms[phases.length === 1 ? 'grad_norm' : `grad_norm_${phase.name}`] = c.norm
        if (!Number.isFinite(c.norm)) {
          throw new RuntimeFailure(`non-finite gradient norm (${c.norm}) at step ${step + 1} in ${phase.name} (${Object.entries(losses).map(([n, v]) => `${n}=${v}`).join(', ')}); no update was applied`, {
            code: 'train.non_finite_grad',
            suggestions: ['lower the learning rate, or enable gradient clipping', 'the last good checkpoint is still in <run-dir>/checkpoints'],
          })
        }
        phase.optimizer.step(clipped, lr)
      } finally {
        for (const t of mean.values()) t.dispose()
        if (clipped) for (const t of clipped.values()) t.dispose()
      }
    } finally {
      acc.dispose()
    }
  }
  return {losses, tokens, seconds: (performance.now() - t0) / 1000, gradNorms}
}

function toHost(v: tf.Tensor, name: string): TensorToWrite {
  const data = v.dataSync()
  if (!(data instanceof Float32Array)) return {shape: [...v.shape], data: data as Int32Array}
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new RuntimeFailure(`refusing to checkpoint: ${name} has a non-finite value at index ${i}`, {code: 'checkpoint.non_finite'})
  }
  return {shape: [...v.shape], data}
}

/** Every tensor a checkpoint holds: the parameters and the optimizers' moments. */
function checkpointTensors(groups: ParameterGroup[], phases: Phase[]): tf.Tensor[] {
  return [...groups.flatMap((g) => [...g.variables.values()]), ...phases.flatMap((p) => p.optimizer.stateTensors())]
}

function writeCheckpoint(params: {runDir: string; keep?: number; groups: ParameterGroup[]; phases: Phase[]; model: Trainable<unknown>; meta?: Record<string, unknown>; state: Omit<TrainerState, 'optimizerSteps' | 'modelState'>}): string {
  const {groups, phases, model, state} = params
  // host copies are made file by file, when each file is written (memory: one file at a time)
  const modelTensors = (): Map<string, TensorToWrite> => {
    const out = new Map<string, TensorToWrite>()
    for (const g of groups) for (const [n, v] of g.variables) out.set(key(g.name, n), toHost(v, key(g.name, n)))
    return out
  }
  const tensors: Record<string, () => Map<string, TensorToWrite>> = {[MODEL_FILE]: modelTensors}
  const optimizerSteps: Record<string, Record<string, number>> = {}
  for (const p of phases) {
    optimizerSteps[p.name] = p.optimizer.stepCounts()
    tensors[optimizerFile(p.name)] = () => {
      const s = p.optimizer.exportState()
      const t = new Map<string, TensorToWrite>()
      for (const [n, h] of s.m) t.set(`m/${n}`, h)
      for (const [n, h] of s.v) t.set(`v/${n}`, h)
      return t
    }
  }
  const full: TrainerState & Record<string, unknown> = {...params.meta, ...state, optimizerSteps, modelState: model.getState?.()}
  return saveCheckpoint({runDir: params.runDir, step: state.step, tensors, state: full, keep: params.keep})
}

function restore(ckpt: LoadedCheckpoint, groups: ParameterGroup[], phases: Phase[], order: TrainingOrder, model: Trainable<unknown>): TrainerState {
  const st = ckpt.state as unknown as TrainerState
  if (st.order !== order) {
    throw new ConfigError(`checkpoint ${ckpt.dir} was written with training order ${st.order}, this run uses ${order}`, {code: 'checkpoint.order_mismatch', suggestions: [`set the training order back to ${st.order}, or start a new run`]})
  }
  const modelTensors = ckpt.readTensors(MODEL_FILE)
  tf.tidy(() => {
    for (const g of groups) {
      for (const [n, v] of g.variables) {
        const h = modelTensors.get(key(g.name, n))
        if (!h) throw new RuntimeFailure(`checkpoint ${ckpt.dir} has no tensor ${key(g.name, n)}`, {code: 'checkpoint.missing_tensor', suggestions: ['the checkpoint was written for a different model; start a new run']})
        if (!tf.util.arraysEqual(h.shape, v.shape)) throw new RuntimeFailure(`checkpoint tensor ${key(g.name, n)} has shape ${JSON.stringify(h.shape)}, the model has ${JSON.stringify(v.shape)}`, {code: 'checkpoint.shape_mismatch'})
        v.assign(tf.tensor(h.data, h.shape, v.dtype))
      }
    }
  })
  for (const p of phases) {
    const t = ckpt.readTensors(optimizerFile(p.name))
    const s: AdamWState = {steps: st.optimizerSteps[p.name] ?? {}, m: new Map(), v: new Map()}
    for (const [n, h] of t) {
      const which = n.slice(0, 2)
      if (which === 'm/') s.m.set(n.slice(2), {shape: h.shape, data: h.data as Float32Array})
      else if (which === 'v/') s.v.set(n.slice(2), {shape: h.shape, data: h.data as Float32Array})
    }
    p.optimizer.importState(s)
  }
  if (st.modelState !== undefined) model.setState?.(st.modelState)
  return st
}
