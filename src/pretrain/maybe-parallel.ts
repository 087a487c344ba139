/**
 * The hook that turns `runtime.workers: W` into data-parallel training (src/parallel): with
 * W > 1 and a model that can split its batches (ShardableTrainable: the RTD model), the trainable is wrapped in a ParallelTrainable with W-1 worker
 * threads; otherwise it is returned as is. BLAS threads are split so that replicas × threads
 * does not exceed runtime.threads (default: the cores).
 */
import os from 'node:os'
import type {Batch} from '../data/batch-iterator.js'
import {ConfigError} from '../errors.js'
import {ParallelTrainable} from '../parallel/parallel-trainable.js'
import {isShardable} from '../parallel/shardable.js'
import {RUNTIME_SECTION} from '../config/config-sections.js'
import {initBackend, type BackendChoice, type NativeChoice} from '../runtime/backend.js'
import type {Trainable} from '../train/trainable.js'
import type {Evaluable} from '../eval/evaluable.js'

export interface MaybeParallelOptions<T extends Trainable<Batch> & Evaluable> {
  trainable: T
  /** The pipeline's `runtime:` section (workers default 1, threads default the cores). */
  runtime?: {backend?: BackendChoice; native?: NativeChoice; threads?: number; workers?: number}
  log?: (msg: string) => void
}

export interface MaybeParallelResult<T> {
  trainable: T | ParallelTrainable
  /** Stops the workers (no-op for one replica). */
  close(): Promise<void>
}

/** BLAS threads per replica: the thread budget split over the replicas, at least 1. */
export function threadsPerReplica(opts: {threads?: number; workers: number}): number {
  return Math.max(1, Math.floor((opts.threads ?? os.availableParallelism()) / opts.workers))
}

export async function maybeParallel<T extends Trainable<Batch> & Evaluable>(opts: MaybeParallelOptions<T>): Promise<MaybeParallelResult<T>> {
  const rt = opts.runtime ?? {}
  const workers = rt.workers ?? 1
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`runtime.workers must be a positive integer, got ${workers}`, {code: 'runtime.workers_invalid'})
  if (workers === 1) return {trainable: opts.trainable, close: async () => {}}
  if (!isShardable(opts.trainable)) {
    opts.log?.(`runtime.workers ${workers}: data-parallel training supports the RTD (gdes) model only; training on one replica`)
    return {trainable: opts.trainable, close: async () => {}}
  }
  const refuse = (backend: string) => new ConfigError(`runtime.workers ${workers} needs the wasm or cpu backend (${backend === 'webgpu' ? 'one GPU device serves one process' : 'tfjs-node does not run in worker threads'}); got backend ${backend}`, {code: 'runtime.workers_backend'})
  if (rt.backend === 'tensorflow' || rt.backend === 'webgpu') throw refuse(rt.backend)
  const threads = threadsPerReplica({threads: rt.threads, workers})
  const runtime = {backend: rt.backend ?? RUNTIME_SECTION.properties.backend.default, native: rt.native ?? RUNTIME_SECTION.properties.native.default, threads}
  // the main thread is replica 0: give it the same thread share (OpenBLAS's setting is per process anyway)
  const info = await initBackend(runtime)
  if (info.backend === 'tensorflow' || info.backend === 'webgpu') throw refuse(info.backend)
  const p = await ParallelTrainable.create({trainable: opts.trainable, workers, runtime})
  opts.log?.(`data-parallel: ${workers} replicas (${workers - 1} worker thread${workers === 2 ? '' : 's'}), ${threads} BLAS thread${threads === 1 ? '' : 's'} each`)
  return {trainable: p, close: () => p.close()}
}
