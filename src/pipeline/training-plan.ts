/**
 * `rtd plan` and the fit check `rtd run` makes before it downloads or tokenizes anything (issue
 * 10): from metadata alone (the model plugin's encoder shapes, at most a config.json; the data
 * plugin's size estimate) the memory per part, the FLOPs and estimated time per step on the
 * backend `auto` would pick, steps per epoch and totals. Core code asks the plugins through
 * RtdPlugin.plan and knows no plugin by name.
 */
import fs from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {ConfigError} from '../errors.js'
import {downloadRepoFiles} from '../hub/index.js'
import type {PlanIo, RtdPlugin, StagePlan} from '../plugin/contract.js'
import type {PluginRegistry} from '../plugin/registry.js'
import {autoRecompute, estimateTrainingMemory, memoryLimit, NATIVE_ACTIVATION_FACTOR, WASM_HEAP_LIMIT_BYTES, type TrainingMemoryEstimate} from '../runtime/memory-estimate.js'
import {hasNativeBackendKernels, loadNativeKernels} from '../runtime/native/load-native.js'
import {estimateStepSeconds, trainingStepFlops} from '../runtime/step-cost.js'

/** The backend a run would compute on, decided without loading TensorFlow.js. */
export function resolveBackend(choice: string): {backend: string; why: string} {
  const tfjsNode = () => {
    const require = createRequire(import.meta.url)
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        require.resolve(name)
        return name
      } catch {
        // not installed
      }
    }
    return undefined
  }
  const native = () => {
    const loaded = loadNativeKernels()
    if (!loaded.ok) return loaded.why
    return hasNativeBackendKernels(loaded.kernels) ? undefined : `${loaded.path} predates the native backend (rebuild with \`node native/build.mjs\`)`
  }
  if (choice !== 'auto') return {backend: choice, why: 'runtime.backend'}
  const node = tfjsNode()
  if (node !== undefined) return {backend: 'tensorflow', why: `auto: ${node} is installed`}
  const whyNot = native()
  if (whyNot === undefined) return {backend: 'native', why: 'auto: the native addon is built'}
  return {backend: 'wasm', why: `auto: native unavailable (${whyNot})`}
}

/**
 * Process memory beyond the training tensors: Node, TensorFlow.js, the wasm module and the
 * tokenizer (about 250 MB measured before the first step; docs/performance.md).
 */
const PROCESS_BASE_BYTES = 250 * 2 ** 20
/**
 * Peak RSS of the native backend over the estimate of its live tensors. The activation model
 * (memory-estimate.ts) was fitted on the wasm heap and already holds some slack; measured native
 * peaks came within a few percent of it without more (bench-small, xsmall: docs/performance.md),
 * the array pool recycling what the garbage collector would otherwise free late.
 */
const NATIVE_GC_SLACK = 1.0
/**
 * Memory of one data-parallel worker thread beyond its tensors: a Node isolate with TensorFlow.js
 * and rtd's modules loaded (and on wasm its own module instance). With it the estimates below
 * came within -3%..+9% of measured peak RSS (`rtd bench --backend native --workers W --steps 1
 * --warmup 0`, here): xsmall W=1/2/3 2995/5228/7020 MB estimated against 2966/5404/7211
 * measured, bench-small W=1/2 1160/1412 against 1068/1335 (wasm bench-small W=2 added 237 MB
 * measured, 273 estimated).
 */
const WORKER_BASE_BYTES = 100 * 2 ** 20

/**
 * How memory scales with runtime.workers = W (src/parallel, read from the code): every replica
 * computes ceil(B / W) rows of each micro-batch, so its activations are those of that share.
 * Replica 0 (the main thread) holds the weights, the gradients and AdamW's m and v. Each of the
 * W - 1 worker threads holds its own copy of the weights and its own gradients (no optimizer
 * state), on wasm in its own heap (each replica's heap has the 4 GiB ceiling to itself). Shared
 * between them: one SharedArrayBuffer of the weights and one of each worker's gradients, a
 * float32 per parameter each (W buffers). So a worker costs about weights + gradients + its
 * share's activations + WORKER_BASE_BYTES; the batch share lowers every replica's activations.
 */
function replicaMemory(o: {shapes: Parameters<typeof estimateTrainingMemory>[0]; workers: number; wasm: boolean}): {main: TrainingMemoryEstimate; mainBytes: number; workerBytes: number; sharedBytes: number} {
  const main = estimateTrainingMemory(o.shapes)
  const b = main.bytes
  const live = b.weights + b.gradients + b.optimizer + b.activations
  // on wasm a replica's heap is its peak with the allocator's slack (the heap never shrinks)
  const slack = o.wasm ? b.total / live : NATIVE_GC_SLACK
  // replica 0 sums the workers' gradients into new tensors while its own are still alive: a
  // second set of gradients, after its activations are gone
  const mainBytes = (o.workers > 1 ? live + Math.max(0, b.gradients - b.activations) : live) * slack
  const workerBytes = o.workers > 1 ? (b.weights + b.gradients + b.activations) * slack + WORKER_BASE_BYTES : 0
  const sharedBytes = o.workers > 1 ? o.workers * b.weights : 0
  return {main, mainBytes, workerBytes, sharedBytes}
}


export interface TrainingPlan {
  inputs: PlanInputs
  backend: string
  backendWhy: string
  model: NonNullable<StagePlan['model']>
  data?: StagePlan['data']
  batch: number
  gradAccumulation: number
  seqLen: number
  /** Replica 0's step (the whole batch when workers is 1, else its ceil(batch / workers) rows). */
  memory: TrainingMemoryEstimate
  /** Data-parallel replicas (runtime.workers; 1 for a model that trains on one). */
  workers: number
  /** workers > 1: what each worker thread adds, and the buffers they share with the main thread. */
  workerBytes: number
  sharedBytes: number
  /** Estimated peak resident set of the training process, all replicas. */
  processBytes: number
  /** The estimate compared with limitBytes: the process, or on wasm replica 0's heap if that is what binds. */
  peakBytes: number
  /** What it must fit: the wasm heap or the machine's RAM. */
  limitBytes: number
  limitWhat: string
  fits: boolean
  /** FLOPs of one optimizer step (all micro-batches). */
  flopsPerStep: number
  secondsPerStep: number
  timeBasis: string
  stepsPerEpoch?: number
  totalSteps?: number
  totalSeconds?: number
}

/** Reads config.json of a local model folder, or fetches only that file of a hub model. */
export function planIo(pipelineDir: string, registry: PluginRegistry): PlanIo {
  return {
    architecture: (name) => registry.architecture(name),
    resolvePath: (p) => path.resolve(pipelineDir, p),
    async readModelConfig(from, option) {
      const local = path.resolve(pipelineDir, from)
      if (fs.existsSync(local)) {
        const file = path.join(local, 'config.json')
        if (!fs.existsSync(file)) throw new ConfigError(`${option}: ${local} has no config.json`, {code: 'plan.no_config'})
        return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
      }
      if (!/^[\w.-]+\/[\w.-]+$/.test(from)) {
        throw new ConfigError(`${option}: ${from} is neither an existing folder (looked at ${local}) nor a hub model id (owner/name)`, {code: 'model.source_missing'})
      }
      const got = await downloadRepoFiles({repo: from, repoType: 'model', files: ['config.json']})
      return JSON.parse(fs.readFileSync(path.join(got.snapshotDir, 'config.json'), 'utf8')) as Record<string, unknown>
    },
  }
}

/** The plan of a resolved pipeline; undefined when its model stage cannot say (no plan hook). */
export async function planPipeline(opts: {pipeline: Record<string, any>; registry: PluginRegistry; file: string; io?: PlanIo}): Promise<TrainingPlan | undefined> {
  const p = opts.pipeline
  const io = opts.io ?? planIo(path.dirname(opts.file), opts.registry)
  const stagePlan = async (kind: 'data' | 'model'): Promise<StagePlan | undefined> => {
    const section = p[kind] as Record<string, unknown> | undefined
    if (section === undefined) return undefined
    const {plugin: name, ...options} = section
    const plugin = opts.registry.get(kind, name as string) as RtdPlugin | undefined
    return plugin?.plan ? plugin.plan(options, p, io) : undefined
  }
  const model = (await stagePlan('model'))?.model
  if (model === undefined) return undefined
  // the data size is a nicety (steps per epoch): a source that cannot be sized yet leaves it out
  const data = (await stagePlan('data').catch(() => undefined))?.data
  const schedule = (p['schedule'] ?? {}) as {batch_size?: number; grad_accumulation?: number; max_steps?: number; epochs?: number}
  const runtime = (p['runtime'] ?? {}) as {backend?: string; recompute?: string; workers?: number}
  const {backend, why} = resolveBackend(runtime.backend ?? 'auto')
  const batch = schedule.batch_size ?? 8
  const gradAccumulation = schedule.grad_accumulation ?? 1
  const seqLen = data?.maxLength ?? 128
  const workers = model.dataParallel === false ? 1 : (runtime.workers ?? 1)
  return buildPlan({model, data, backend, backendWhy: why, batch, gradAccumulation, seqLen, workers, recompute: runtime.recompute, maxSteps: schedule.max_steps, epochs: schedule.epochs})
}

/** What a plan is computed from (kept in the plan so alternatives can be computed from it). */
export interface PlanInputs {
  model: NonNullable<StagePlan['model']>
  data?: StagePlan['data']
  backend: string
  backendWhy: string
  batch: number
  gradAccumulation: number
  seqLen: number
  /** runtime.workers: data-parallel replicas (default 1). */
  workers?: number
  /** runtime.recompute: auto (default), on, off, alternate. */
  recompute?: string
  maxSteps?: number
  epochs?: number
}

export function buildPlan(o: PlanInputs): TrainingPlan {
  const workers = o.workers ?? 1
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`runtime.workers must be a positive integer, got ${workers}`, {code: 'runtime.workers_invalid'})
  const shapes = {discriminator: o.model.discriminator, generator: o.model.generator, batch: o.batch, seqLen: o.seqLen, sharing: o.model.sharing, maskRate: o.model.maskRate}
  const recompute = o.recompute === 'on' ? true : o.recompute === 'off' ? false : o.recompute === 'alternate' ? 'alternate' : autoRecompute(shapes, o.backend)
  const wasm = o.backend === 'wasm'
  const replicas = replicaMemory({shapes: {...shapes, batch: Math.ceil(o.batch / workers), optimizer: 'adamw', recompute, activationFactor: o.backend === 'native' ? NATIVE_ACTIVATION_FACTOR : 1}, workers, wasm})
  const memory = replicas.main
  const processBytes = replicas.mainBytes + (workers - 1) * replicas.workerBytes + replicas.sharedBytes + PROCESS_BASE_BYTES
  const ram = memoryLimit()
  // What must fit: the process in the RAM; on wasm also replica 0's heap (the largest replica) in 4 GiB.
  const bounds = [{need: processBytes, limit: ram.bytes, what: ram.what}]
  if (wasm) bounds.unshift({need: replicas.mainBytes + PROCESS_BASE_BYTES, limit: WASM_HEAP_LIMIT_BYTES + PROCESS_BASE_BYTES, what: workers > 1 ? "the wasm backend's 4 GiB heap (replica 0's; each replica has its own)" : "the wasm backend's 4 GiB heap"})
  // one wasm replica has always been held to its heap alone (the RAM is larger than 4 GiB)
  const binding = bounds.find((b) => b.need > b.limit) ?? bounds[0]!
  const flopsPerStep = o.gradAccumulation * trainingStepFlops({...shapes, recompute, params: memory.params.trainable / o.gradAccumulation})
  const time = estimateStepSeconds(flopsPerStep / o.gradAccumulation, o.backend)
  const secondsPerStep = time.seconds * o.gradAccumulation
  const plan: TrainingPlan = {inputs: o, backend: o.backend, backendWhy: o.backendWhy, model: o.model, batch: o.batch, gradAccumulation: o.gradAccumulation, seqLen: o.seqLen, memory,
    workers, workerBytes: replicas.workerBytes, sharedBytes: replicas.sharedBytes, processBytes,
    peakBytes: binding.need, limitBytes: binding.limit, limitWhat: binding.what, fits: bounds.every((b) => b.need <= b.limit), flopsPerStep, secondsPerStep, timeBasis: time.basis}
  if (o.data !== undefined) plan.data = o.data
  if (o.data?.trainSequences !== undefined) plan.stepsPerEpoch = Math.max(1, Math.ceil(o.data.trainSequences / (o.batch * o.gradAccumulation)))
  const total = o.maxSteps ?? (plan.stepsPerEpoch !== undefined ? (o.epochs ?? 1) * plan.stepsPerEpoch : undefined)
  if (total !== undefined) {
    plan.totalSteps = total
    plan.totalSeconds = total * secondsPerStep
  }
  return plan
}

const gib = (x: number) => (x >= 2 ** 30 ? `${(x / 2 ** 30).toFixed(2)} GiB` : `${(x / 2 ** 20).toFixed(0)} MiB`)

function duration(s: number): string {
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 0)} s`
  if (s < 2 * 3600) return `${(s / 60).toFixed(1)} min`
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86400).toFixed(1)} days`
}

/** The plan as lines for the terminal. */
export function formatPlan(plan: TrainingPlan): string[] {
  const b = plan.memory.bytes
  const lines: string[] = [
    `model: ${plan.model.summary}`,
    `backend: ${plan.backend} (${plan.backendWhy})`,
    `step: batch ${plan.batch}${plan.gradAccumulation > 1 ? ` x ${plan.gradAccumulation} accumulated` : ''} x ${plan.seqLen} tokens${plan.memory.recompute === true ? ', every layer recomputed in the backward pass' : plan.memory.recompute === 'alternate' ? ', every other layer recomputed in the backward pass' : ''}`,
    'memory:',
    `  weights      ${gib(b.weights).padStart(10)}  (${(plan.memory.params.trainable / 1e6).toFixed(1)}M float32 parameters: generator ${(plan.memory.params.generator / 1e6).toFixed(1)}M, discriminator ${(plan.memory.params.discriminator / 1e6).toFixed(1)}M)`,
    `  gradients    ${gib(b.gradients).padStart(10)}`,
    `  optimizer    ${gib(b.optimizer).padStart(10)}  (AdamW m and v)`,
    `  activations  ${gib(b.activations).padStart(10)}  (${plan.workers > 1 ? `replica 0's ${Math.ceil(plan.batch / plan.workers)} of ${plan.batch} rows` : 'one micro-batch'}, kept for the backward pass)`,
  ]
  if (plan.workers > 1) {
    lines.push(`  workers      ${gib((plan.workers - 1) * plan.workerBytes + plan.sharedBytes).padStart(10)}  (${plan.workers - 1} worker thread${plan.workers === 2 ? '' : 's'} of runtime.workers ${plan.workers}: each its own weights, gradients and activations, ${gib(plan.workerBytes)}; shared weight and gradient buffers ${gib(plan.sharedBytes)})`)
    if (plan.peakBytes !== plan.processBytes) lines.push(`  process      ${gib(plan.processBytes).padStart(10)}  (all replicas, estimated peak RSS)`)
  }
  lines.push(
    `  peak         ${gib(plan.peakBytes).padStart(10)}  (estimated peak RSS with the runtime's own memory) of ${gib(plan.limitBytes)}: ${plan.limitWhat}${plan.fits ? '' : '  DOES NOT FIT'}`,
    `compute: ${(plan.flopsPerStep / 1e12).toFixed(3)} TFLOP per step, about ${duration(plan.secondsPerStep)} per step on ${plan.backend} (${plan.timeBasis})`,
  )
  if (plan.data !== undefined) lines.push(`data: ${plan.data.note}`)
  if (plan.stepsPerEpoch !== undefined) lines.push(`steps per epoch: ${plan.data?.estimated ? 'about ' : ''}${plan.stepsPerEpoch}`)
  if (plan.totalSteps !== undefined) lines.push(`total: ${plan.totalSteps} steps, about ${duration(plan.totalSeconds!)}`)
  else lines.push('total: unknown until the data size is (run `rtd data build`, or set schedule.max_steps)')
  return lines
}

/** What to change when the plan does not fit: micro-batches that fit, recomputation, other backends. */
export function planAlternatives(plan: TrainingPlan): string[] {
  const rebuild = (change: Partial<PlanInputs>) => buildPlan({...plan.inputs, ...change})
  const out: string[] = []
  if (plan.workers > 1) {
    const alone = rebuild({workers: 1})
    if (alone.fits) out.push(`runtime.workers=1: one replica, no model copies in worker threads (about ${gib(alone.peakBytes)})`)
  }
  for (let micro = Math.floor(plan.batch / 2); micro >= 1; micro = Math.floor(micro / 2)) {
    if (plan.batch % micro !== 0) continue
    const acc = (plan.batch / micro) * plan.gradAccumulation
    const alt = rebuild({batch: micro, gradAccumulation: acc})
    if (alt.fits) {
      out.push(`schedule.batch_size=${micro} schedule.grad_accumulation=${acc}: the same effective batch in micro-batches (about ${gib(alt.peakBytes)}, ${duration(alt.secondsPerStep)} per step)`)
      break
    }
  }
  if (plan.memory.recompute !== true) {
    const alt = rebuild({batch: plan.batch, gradAccumulation: plan.gradAccumulation, recompute: 'on'})
    if (alt.fits) out.push(`runtime.recompute=on: recompute every layer in the backward pass (about ${gib(alt.peakBytes)}, ${duration(alt.secondsPerStep)} per step)`)
  }
  if (plan.backend === 'wasm') {
    out.push("install a C compiler and libopenblas-dev, run `node native/build.mjs` and use runtime.backend 'native' (no 4 GiB limit, faster)")
  }
  out.push('a smaller model (fewer layers, a smaller hidden size or vocabulary), or a shorter data.max_length')
  return out
}

/** Throws ConfigError (exit 2) with the numbers and the alternatives when the plan does not fit. */
export function checkPlanFits(plan: TrainingPlan): void {
  if (plan.fits) return
  const replicas = plan.workers > 1 ? `, ${plan.workers} data-parallel replicas (runtime.workers)` : ''
  throw new ConfigError(`training does not fit: it needs about ${gib(plan.peakBytes)} but ${plan.limitWhat} holds ${gib(plan.limitBytes)} (backend ${plan.backend}${replicas}). ` +
    plan.memory.breakdown.join('; '), {code: 'memory.exceeds_backend', suggestions: planAlternatives(plan)})
}
