/**
 * Data-parallel RTD training on worker threads (issue 6): replica 0 is the coordinator's own
 * trainable (the one the trainer's AdamW updates; any ShardableTrainable, e.g. src/pretrain's
 * RtdTrainable); replicas 1..W-1 run in worker threads,
 * each with its own TensorFlow.js backend and model copy.
 *
 * Per micro-batch: the coordinator masks the WHOLE batch (same Rng as one replica), splits the
 * rows, and every replica computes the gradient of its rows' share of the global objective
 * (L_MLM scaled by M_s/M, L_RTD by T_s/T: M masked, T non-pad tokens of the whole batch), so
 * the summed gradients are the whole batch's gradient, exactly up to float rounding. Replacement
 * samples are keyed by global row (row-sample-rng.ts) and do not depend on the split. Dropout
 * masks do (each share has its own stream): with dropout > 0, W replicas train on a different,
 * equally valid, dropout draw than one.
 *
 * Weights reach the workers by copy: at the first micro-batch of every phase (the optimizer
 * has stepped since the last one) the coordinator writes its variables into a shared buffer
 * that the workers load before computing. (Chosen over sending the averaged gradients and
 * running AdamW on every replica: same bytes moved, but AdamW would run W times, and the
 * replicas could drift apart in rounding.)
 *
 * Idle workers are unref'd, so a forgotten close() does not keep the process alive.
 */
import {createRequire} from 'node:module'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import * as tf from '#tfjs'
import type {Batch} from '../data/batch-iterator.js'
import {RuntimeFailure} from '../errors.js'
import {hasEmbeddingDiagnostics, type EvalBatchOutput, type Evaluable} from '../eval/evaluable.js'
import type {BackendChoice, BackendInfo, NativeChoice} from '../runtime/backend.js'
import type {LossAndGrads, LossContext, ParameterGroup, Trainable} from '../train/trainable.js'
import {entryKey, flatLayout, layoutFingerprint, type FlatLayout} from './flat-layout.js'
import {countOnes, sliceRows, splitRows} from './row-split.js'
import type {ShardableTrainable} from './shardable.js'
import type {FromWorker, ReplicaSpec, ToWorker} from './worker-protocol.js'

export interface ParallelTrainableOptions {
  /** Replica 0, on this thread; its variables are the ones the optimizer updates. */
  trainable: ShardableTrainable & Evaluable
  /** Replicas in all, >= 2 (workers - 1 worker threads). */
  workers: number
  /** Backend of each worker replica (threads: BLAS threads per replica). */
  runtime: {backend: BackendChoice; native: NativeChoice; threads: number}
}

interface WorkerHandle {
  worker: Worker
  grads: Float32Array
  pending: Map<number, {resolve: (m: Extract<FromWorker, {type: 'computed'}>) => void; reject: (e: Error) => void}>
  backend?: BackendInfo
  failed?: Error
  /** Weights version the worker holds (0: none). */
  loadedVersion: number
}

/**
 * Starts the worker entry next to this file: replica-worker.js when built; under tsx (tests,
 * npx tsx) the .ts file, through a bootstrap that registers tsx in the worker (Node 20 workers
 * do not get the parent's loader hooks).
 */
function startReplicaWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./replica-worker.js', import.meta.url))
  const entry = new URL('./replica-worker.ts', import.meta.url).href
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, {eval: true})
}

export class ParallelTrainable implements Trainable<Batch>, Evaluable {
  readonly replicas: number
  private readonly layout: FlatLayout
  private readonly weights: Float32Array
  private readonly handles: WorkerHandle[] = []
  private nextId = 0
  /** Bumped each time the weights buffer is rewritten. */
  private version = 0
  private closed = false
  /** Milliseconds spent copying weights to the workers, summed (for the benchmark). */
  syncMs = 0
  /** Summed ms: replica 0's compute, waiting for the workers after it, the workers' own compute (slowest per call), summing gradients. */
  readonly timings = {ownMs: 0, waitMs: 0, workerMs: 0, sumMs: 0}

  private constructor(private readonly opts: ParallelTrainableOptions, layout: FlatLayout) {
    this.replicas = opts.workers
    this.layout = layout
    this.weights = new Float32Array(new SharedArrayBuffer(4 * layout.total))
  }

  /** Starts W-1 workers and waits until each has built its replica. */
  static async create(opts: ParallelTrainableOptions): Promise<ParallelTrainable> {
    if (!Number.isInteger(opts.workers) || opts.workers < 2) throw new RangeError(`ParallelTrainable needs workers >= 2, got ${opts.workers}`)
    const layout = flatLayout(opts.trainable.parameterGroups())
    const self = new ParallelTrainable(opts, layout)
    try {
      await Promise.all(Array.from({length: opts.workers - 1}, () => self.startWorker()))
    } catch (err) {
      await self.close()
      throw err
    }
    return self
  }

  /** Backends the worker replicas reported. */
  workerBackends(): BackendInfo[] {
    return this.handles.map((h) => h.backend!)
  }

  private startWorker(): Promise<void> {
    const {trainable, runtime} = this.opts
    const gradsBuf = new SharedArrayBuffer(4 * this.layout.total)
    const spec: ReplicaSpec = {replica: trainable.replicaRecipe(), runtime, fingerprint: layoutFingerprint(this.layout), weights: this.weights.buffer as SharedArrayBuffer, grads: gradsBuf}
    const worker = startReplicaWorker()
    const h: WorkerHandle = {worker, grads: new Float32Array(gradsBuf), pending: new Map(), loadedVersion: 0}
    this.handles.push(h)
    return new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => {
        h.failed = e
        for (const p of h.pending.values()) p.reject(e)
        h.pending.clear()
        reject(e)
      }
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          h.backend = m.backend
          worker.unref()
          resolve()
        } else if (m.type === 'computed') {
          const p = h.pending.get(m.id)
          h.pending.delete(m.id)
          if (h.pending.size === 0) worker.unref()
          p?.resolve(m)
        } else {
          fail(new RuntimeFailure(`data-parallel worker failed: ${m.message}`, {code: 'parallel.worker_failed'}))
        }
      })
      worker.on('error', (e) => fail(new RuntimeFailure(`data-parallel worker crashed: ${e.message}`, {code: 'parallel.worker_failed'})))
      worker.on('exit', (code) => {
        if (!this.closed) fail(new RuntimeFailure(`data-parallel worker exited (code ${code})`, {code: 'parallel.worker_exited'}))
      })
      worker.postMessage({type: 'init', spec} satisfies ToWorker)
    })
  }

  parameterGroups(): ParameterGroup[] {
    return this.opts.trainable.parameterGroups()
  }

  /** Writes replica 0's variables into the shared weights buffer. */
  private publishWeights(): void {
    const t0 = performance.now()
    const byKey = new Map<string, tf.Variable>()
    for (const g of this.parameterGroups()) for (const [n, v] of g.variables) byKey.set(entryKey(g.name, n), v)
    for (const e of this.layout.entries) this.weights.set(byKey.get(entryKey(e.group, e.name))!.dataSync() as Float32Array, e.offset)
    this.syncMs += performance.now() - t0
  }

  private request(h: WorkerHandle, m: Omit<Extract<ToWorker, {type: 'compute'}>, 'id'>): Promise<Extract<FromWorker, {type: 'computed'}>> {
    if (h.failed) return Promise.reject(h.failed)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      h.pending.set(id, {resolve, reject})
      h.worker.ref() // keep the process alive while an answer is due
      h.worker.postMessage({...m, id} satisfies ToWorker)
    })
  }

  async computeLossAndGrads(batch: Batch, ctx: LossContext): Promise<LossAndGrads> {
    if (this.closed) throw new Error('ParallelTrainable is closed')
    const t = this.opts.trainable
    const masked = t.maskFor(batch, ctx)
    const M = countOnes(masked.mlmMask)
    const T = countOnes(batch.attentionMask)
    const ranges = splitRows({rows: batch.batchSize, parts: this.replicas})
    const shares = ranges.map((range) => {
      const s = sliceRows({batch, masked, range})
      const Ms = countOnes(s.masked.mlmMask)
      const Ts = countOnes(s.batch.attentionMask)
      return {...s, rowOffset: range.start, mlmScale: M > 0 ? Ms / M : 0, rtdScale: T > 0 ? Ts / T : 0, Ms, Ts}
    })
    const part = ctx.groups.includes('generator') ? (ctx.groups.includes('discriminator') ? 'joint' : 'generator') : 'discriminator'
    // A share with no tokens (all padding) adds nothing; one without masked tokens adds nothing to a generator phase.
    const active = (s: (typeof shares)[number]): boolean => s.Ts > 0 && (part !== 'generator' || s.Ms > 0)
    // Weights change only through optimizer steps, which happen between phases: copy at each phase's first micro-batch.
    if (ctx.microBatch === 0 || this.version === 0) {
      this.publishWeights()
      this.version++
    }
    const answers = this.handles.map((h, i) => {
      const s = shares[i + 1]!
      if (!active(s)) return Promise.resolve(undefined)
      const sync = h.loadedVersion !== this.version
      h.loadedVersion = this.version
      return this.request(h, {type: 'compute', sync, batch: s.batch, masked: s.masked, rowOffset: s.rowOffset, mlmScale: s.mlmScale, rtdScale: s.rtdScale, ctx})
    })
    const tOwn = performance.now()
    const own = active(shares[0]!) ? await t.computeShare({batch: shares[0]!.batch, masked: shares[0]!.masked, rowOffset: 0, mlmScale: shares[0]!.mlmScale, rtdScale: shares[0]!.rtdScale}, ctx) : undefined
    let remote: (Extract<FromWorker, {type: 'computed'}> | undefined)[]
    const tWait = performance.now()
    let tSum = tWait
    this.timings.ownMs += tWait - tOwn
    try {
      remote = await Promise.all(answers)
      tSum = performance.now()
      this.timings.waitMs += tSum - tWait
      this.timings.workerMs += Math.max(0, ...remote.map((r) => r?.ms ?? 0))
    } catch (err) {
      if (own) for (const g of own.grads.values()) for (const x of g.values()) x.dispose()
      throw err
    }

    // sum the gradients: replica 0's tensors plus the workers' buffers
    const grads = new Map<string, Map<string, tf.Tensor>>()
    for (const g of ctx.groups) grads.set(g, new Map())
    for (const e of this.layout.entries) {
      const target = grads.get(e.group)
      if (target === undefined) continue
      const parts: tf.Tensor[] = []
      const mine = own?.grads.get(e.group)?.get(e.name)
      if (mine) parts.push(mine)
      const key = entryKey(e.group, e.name)
      const sources = remote.flatMap((r, i) => (r?.present.includes(key) ? [this.handles[i]!.grads.subarray(e.offset, e.offset + e.size)] : []))
      // wasm copies a tensor's values into its heap; cpu keeps the array, so copy a buffer view that outlives this call
      const aliasing = tf.getBackend() !== 'wasm'
      for (const view of sources) parts.push(tf.tensor(aliasing && parts.length === 0 && sources.length === 1 ? view.slice() : view, e.shape, 'float32'))
      if (parts.length === 0) continue
      target.set(e.name, parts.length === 1 ? parts[0]! : tf.tidy(() => tf.addN(parts)))
      if (parts.length > 1) for (const p of parts) p.dispose()
    }
    if (own) for (const [g, m] of own.grads) for (const [n, x] of m) if (grads.get(g)?.get(n) !== x && !x.isDisposed) x.dispose()

    this.timings.sumMs += performance.now() - tSum
    // the global losses from the shares' means
    const all = [own, ...remote]
    let mlm = 0
    let rtd = 0
    let tokens = 0
    shares.forEach((s, i) => {
      const r = all[i]
      if (!r) return
      if (s.Ms > 0 && r.losses.mlm !== undefined) mlm += s.mlmScale * r.losses.mlm
      if (r.losses.rtd !== undefined) rtd += s.rtdScale * r.losses.rtd
      tokens += r.tokens
    })
    const losses: Record<string, number> = {}
    if (part !== 'discriminator') losses.mlm = M > 0 ? mlm : NaN
    if (part !== 'generator') losses.rtd = rtd
    losses.loss = (part !== 'discriminator' ? ctx.weights.mlm * losses.mlm! : 0) + (part !== 'generator' ? ctx.weights.rtd * rtd : 0)
    return {grads, losses, tokens}
  }

  async evaluateBatch(batch: Batch, opts: {seed: number; index: number}): Promise<EvalBatchOutput> {
    return await this.opts.trainable.evaluateBatch(batch, opts)
  }

  async embeddingDiagnostics(batch: Batch, opts: {seed: number}): Promise<Record<string, number>> {
    const t = this.opts.trainable
    return hasEmbeddingDiagnostics(t) ? await t.embeddingDiagnostics(batch, opts) : {}
  }

  /** Stops the workers (replica 0 stays usable). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.handles.map((h) => h.worker.terminate()))
  }
}
