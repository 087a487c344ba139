/**
 * `rtd bench` (issue 6): times the real GDES training step (RtdTrainable.computeLossAndGrads:
 * generator forward, MLM loss, sampling, discriminator forward, RTD loss, backward; then the
 * trainer's AdamW update) on seeded synthetic token ids, optionally over data-parallel workers
 * (src/parallel). Forward-only mode runs the two forwards, the sampling and the losses without
 * gradients. The step matches the PyTorch reference step (bench_torch.py, external; docs/performance.md): float32, dropout 0.1 on,
 * 15% all-mask masking of full-length rows, λ = 50, AdamW (lr 1e-4, betas 0.9/0.98, eps 1e-6,
 * weight decay 0.01 except biases and LayerNorm).
 */
import os from 'node:os'
import * as tf from '#tfjs'
import type {Batch} from '../data/batch-iterator.js'
import {ConfigError} from '../errors.js'
import {EMBEDDING_SHARING, RtdPair, v3Config, type EmbeddingSharing} from '../model/index.js'
import {PluginRegistry} from '../plugin/registry.js'
import {maybeParallel, threadsPerReplica} from '../pretrain/maybe-parallel.js'
import {RtdTrainable} from '../pretrain/rtd-trainable.js'
import {syncReadsWork} from '../runtime/host-reads.js'
import {initBackend, type BackendChoice, type NativeChoice} from '../runtime/backend.js'
import {AdamW} from '../train/adamw.js'
import {Rng} from '../util/rng.js'
import {BENCH_CONFIG, BENCH_CONFIGS, type BenchConfigName} from './bench-configs.js'

export interface BenchOptions {
  config: BenchConfigName
  /** Timed steps (default 5) after `warmup` untimed ones (default 2). */
  steps?: number
  warmup?: number
  /** Override the config's batch size / sequence length. */
  batch?: number
  seq?: number
  /** Data-parallel replicas (default 1). */
  workers?: number
  backend?: BackendChoice
  native?: NativeChoice
  /** Thread budget split over the replicas (default: the cores). */
  threads?: number
  forwardOnly?: boolean
  sharing?: EmbeddingSharing
  seed?: number
  /** Profile one more step after the timed ones: time per kernel (BenchResult.profile). */
  profile?: boolean
}

/** One kernel's share of a profiled step. */
export interface KernelTime {
  kernel: string
  ms: number
  calls: number
}

export interface BenchResult {
  config: BenchConfigName
  mode: 'train' | 'forward'
  /** batch·seq / median seconds per step. */
  tokens_per_s: number
  s_per_step: number
  /** Median CPU seconds (user + system, all threads of the process) per step: less sensitive to other load than wall time. */
  cpu_s_per_step: number
  min_s: number
  max_s: number
  /** Peak resident set of the process (all threads), MB. */
  peak_rss_mb: number
  backend: string
  /** webgpu: the adapter (vendor, architecture, driver's name) and whether it computes on the CPU. */
  adapter?: string
  software_adapter?: boolean
  native: boolean
  workers: number
  /** BLAS threads per replica. */
  threads: number
  batch: number
  seq: number
  steps: number
  warmup: number
  sharing: EmbeddingSharing
  /** Median ms of the AdamW update (train mode). */
  adamw_ms?: number
  /** With `profile`: time per kernel over one extra training step, slowest first. */
  profile?: KernelTime[]
  /** Loss of the last timed step (L_MLM + 50·L_RTD). */
  last_loss: number
  /** workers > 1, median ms per step: copying weights to the workers; replica 0's share; waiting for the workers after it; the slowest worker's compute; summing gradients. */
  weight_sync_ms?: number
  own_ms?: number
  wait_ms?: number
  worker_ms?: number
  sum_ms?: number
  loadavg_before: number[]
  loadavg_after: number[]
  cores: number
}

export const SPECIAL = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
const LAMBDA = 50

/** Full-length rows [CLS] x… [SEP] with ids uniform in [5, vocab), seeded. */
export function syntheticBatch(opts: {batch: number; seq: number; vocab: number; seed: number; index: number}): Batch {
  const {batch: B, seq: N, vocab} = opts
  const rng = Rng.derive(opts.seed, 'bench-batch', opts.index)
  const inputIds = new Int32Array(B * N)
  for (let r = 0; r < B; r++) for (let c = 0; c < N; c++) inputIds[r * N + c] = c === 0 ? SPECIAL.cls : c === N - 1 ? SPECIAL.sep : 5 + rng.int(vocab - 5)
  return {inputIds, attentionMask: new Int32Array(B * N).fill(1), batchSize: B, seqLen: N, position: {epoch: 0, index: opts.index * B}}
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const round = (x: number, d: number): number => Number(x.toFixed(d))

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  if (!BENCH_CONFIGS.includes(opts.config)) throw new ConfigError(`bench config ${JSON.stringify(opts.config)} is not one of ${BENCH_CONFIGS.join(', ')}`, {code: 'bench.config_unknown'})
  const c = BENCH_CONFIG[opts.config]
  const steps = opts.steps ?? 5
  const warmup = opts.warmup ?? 2
  const B = opts.batch ?? c.batch
  const N = opts.seq ?? c.seq
  const workers = opts.forwardOnly ? 1 : (opts.workers ?? 1)
  const sharing = opts.sharing ?? 'gdes'
  const seed = opts.seed ?? 0
  for (const [name, v, min] of [['steps', steps, 1], ['warmup', warmup, 0], ['batch', B, 1], ['seq', N, 3], ['workers', workers, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`bench --${name} must be an integer >= ${min}, got ${v}`, {code: 'bench.bad_number'})
  }
  if (N > c.maxPositions) throw new ConfigError(`bench --seq ${N} exceeds ${opts.config}'s max_position_embeddings ${c.maxPositions}`, {code: 'bench.seq_too_long'})
  if (!EMBEDDING_SHARING.includes(sharing)) throw new ConfigError(`bench --sharing must be one of ${EMBEDDING_SHARING.join(', ')}, got ${sharing}`, {code: 'bench.sharing'})
  const runtime = {backend: opts.backend ?? 'auto', native: opts.native ?? 'auto', threads: opts.threads ?? os.availableParallelism(), workers}
  const info = await initBackend({backend: runtime.backend, native: runtime.native, threads: threadsPerReplica({threads: runtime.threads, workers})})
  if (opts.forwardOnly && !syncReadsWork()) throw new ConfigError(`bench --forward-only samples inside the forward pass, which needs synchronous reads; the ${info.backend} backend has none: time the training step instead`, {code: 'bench.forward_only_backend'})

  const shape = {vocabSize: c.vocab, hiddenSize: c.hidden, numAttentionHeads: c.heads, intermediateSize: c.intermediate, maxPositionEmbeddings: c.maxPositions, positionBuckets: c.positionBuckets}
  const pair = new RtdPair({architecture: await new PluginRegistry().architecture('deberta-v3').load(), discriminator: v3Config({...shape, numHiddenLayers: c.discriminatorLayers}), generator: v3Config({...shape, numHiddenLayers: c.generatorLayers}), sharing, seed, maskTokenId: SPECIAL.mask})
  const base = new RtdTrainable({pair, special: SPECIAL, tokenizerVocabSize: c.vocab, mask: {rate: c.maskRate ?? 0.15, recipe: 'all-mask'}, temperature: c.temperature ?? 1, seed})
  const par = await maybeParallel({trainable: base, runtime})
  const model = par.trainable
  const groups = model.parameterGroups()
  const variables = new Map<string, tf.Variable>()
  for (const g of groups) for (const [n, v] of g.variables) variables.set(`${g.name}/${n}`, v)
  const opt = new AdamW({variables, beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.01})
  const batches = Array.from({length: warmup + steps}, (_, index) => syntheticBatch({batch: B, seq: N, vocab: c.vocab, seed, index}))

  const loadBefore = os.loadavg()
  const times: number[] = []
  const cpu: number[] = []
  const adam: number[] = []
  const syncs: number[] = []
  const parts: Record<'ownMs' | 'waitMs' | 'workerMs' | 'sumMs', number[]> = {ownMs: [], waitMs: [], workerMs: [], sumMs: []}
  let lastLoss = NaN
  let profile: KernelTime[] | undefined
  const runStep = async (batch: Batch, step: number) => {
    const r = await model.computeLossAndGrads(batch, {step, microBatch: 0, training: true, groups: groups.map((g) => g.name), weights: {mlm: 1, rtd: LAMBDA}})
    const flat = new Map<string, tf.Tensor>()
    for (const [g, m] of r.grads) for (const [n, t] of m) flat.set(`${g}/${n}`, t)
    const a0 = performance.now()
    opt.step(flat, 1e-4)
    const adamMs = performance.now() - a0
    for (const t of flat.values()) t.dispose()
    return {loss: r.losses.loss!, adamMs}
  }
  try {
    for (const [step, batch] of batches.entries()) {
      const sync0 = 'syncMs' in model ? model.syncMs : 0
      const t0parts = 'timings' in model ? {...model.timings} : undefined
      const t0 = performance.now()
      const c0 = process.cpuUsage()
      if (opts.forwardOnly) {
        const masked = base.maskFor(batch, {step, microBatch: 0})
        const res = pair.lossFn({inputIds: batch.inputIds, maskedInputIds: masked.maskedIds, attentionMask: batch.attentionMask, mlmMask: masked.mlmMask, batch: B, seqLen: N, lambda: LAMBDA,
          sampleRng: Rng.derive(seed, 'sample', step), training: true, dropoutRng: Rng.derive(seed, 'dropout', step)})
        lastLoss = (await res.loss.data())[0]!
        res.dispose()
      } else {
        const r = await runStep(batch, step)
        if (step >= warmup) adam.push(r.adamMs)
        lastLoss = r.loss
        // a GPU runs the update after this point: wait for it, so each step's time is its own
        if (!syncReadsWork()) await settled(variables.values().next().value)
      }
      const ms = performance.now() - t0
      const c1 = process.cpuUsage(c0)
      if (step >= warmup) {
        times.push(ms / 1000)
        cpu.push((c1.user + c1.system) / 1e6)
        if ('syncMs' in model) syncs.push(model.syncMs - sync0)
        if ('timings' in model && t0parts) for (const k of Object.keys(parts) as (keyof typeof parts)[]) parts[k].push(model.timings[k] - t0parts[k])
      }
    }
    if (opts.profile && !opts.forwardOnly) {
      const byKernel = new Map<string, KernelTime>()
      const info = await tf.profile(async () => {
        await runStep(batches[batches.length - 1]!, batches.length)
      })
      for (const k of info.kernels) {
        const e = byKernel.get(k.name) ?? {kernel: k.name, ms: 0, calls: 0}
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
        e.calls += 1
        byKernel.set(k.name, e)
      }
      profile = [...byKernel.values()].sort((a, b) => b.ms - a.ms).map((e) => ({...e, ms: round(e.ms, 1)}))
    }
  } finally {
    opt.dispose()
    await par.close()
    pair.dispose()
  }
  const med = median(times)
  const result: BenchResult = {
    config: opts.config,
    mode: opts.forwardOnly ? 'forward' : 'train',
    tokens_per_s: round((B * N) / med, 1),
    s_per_step: round(med, 4),
    cpu_s_per_step: round(median(cpu), 4),
    min_s: round(Math.min(...times), 4),
    max_s: round(Math.max(...times), 4),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    backend: info.backend,
    ...(info.adapter ? {adapter: `${info.adapter.vendor} ${info.adapter.architecture} ${info.adapter.description || info.adapter.device}`.trim(), software_adapter: info.adapter.software} : {}),
    native: info.native,
    workers,
    threads: info.threads,
    batch: B,
    seq: N,
    steps,
    warmup,
    sharing,
    last_loss: round(lastLoss, 4),
    loadavg_before: loadBefore.map((x) => round(x, 2)),
    loadavg_after: os.loadavg().map((x) => round(x, 2)),
    cores: os.availableParallelism(),
  }
  if (adam.length > 0) result.adamw_ms = round(median(adam), 1)
  if (profile) result.profile = profile
  if (syncs.length > 0) {
    result.weight_sync_ms = round(median(syncs), 1)
    result.own_ms = round(median(parts.ownMs), 1)
    result.wait_ms = round(median(parts.waitMs), 1)
    result.worker_ms = round(median(parts.workerMs), 1)
    result.sum_ms = round(median(parts.sumMs), 1)
  }
  return result
}

/** Resolves when the device has run all the work queued before the call (reads one element of `t`). */
async function settled(t: tf.Tensor | undefined): Promise<void> {
  if (t === undefined) return
  const one = tf.tidy(() => t.reshape([-1]).slice(0, 1))
  await one.data()
  one.dispose()
}
