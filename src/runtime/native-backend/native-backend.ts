/**
 * The `native` TensorFlow.js backend (issue 10): tensors live in ordinary Node memory (the
 * tfjs-backend-cpu storage: one TypedArray per tensor, no 4 GiB heap), and the hot kernels are
 * C kernels of the N-API addon (native/rtd_node_kernels.c) that work in place on those arrays.
 * Every kernel rtd does not write natively is the cpu backend's JS kernel, registered under
 * `native` too, so the backend is complete from the start and gets faster kernel by kernel.
 *
 * Differences from the cpu backend's storage, for in-place updates (AdamW, clipping:
 * src/runtime/exclusive-buffer.ts): `tf.tensor(array)` copies the caller's array (as wasm does),
 * so writing a parameter in place never reaches a host array someone else holds; reads
 * (`dataSync`, `data`) return copies, so a snapshot taken before an update stays a snapshot; and
 * no tensor's array is a view into another's (the cpu kernels that return views, e.g. Unpack,
 * get their outputs copied).
 *
 * Arrays are recycled: a training step allocates the same sizes step after step, and fresh
 * multi-megabyte ArrayBuffers cost page faults, zeroing and garbage-collector pressure (measured
 * 2-6x the time of the kernels themselves). The native kernels take their outputs from a pool
 * that disposed tensors' arrays return to (only arrays the pool made: nothing else can hold them).
 *
 * What it uses of the cpu backend beyond its public methods (the storage records, data ids, the
 * banner flag) goes through src/runtime/tfjs-internals.ts; backend.ts registers it only when
 * tfjs and tfjs-backend-cpu are the pinned version.
 */
import * as tf from '#tfjs'
import {createRequire} from 'node:module'
import type {NativeKernels} from '../native/load-native.js'
import {cpuHasData, cpuStoreValues, cpuTensorData, cpuValues, silenceCpuBanner, type CpuTensorData} from '../tfjs-internals.js'
import {nativeKernelConfigs} from './native-kernels.js'

// required, not imported: an ES import makes Node scan the CommonJS bundle for its export names
// first (~0.1 s of start-up; src/runtime/tfjs-esm.js says more)
const {MathBackendCPU} = createRequire(import.meta.url)('@tensorflow/tfjs-backend-cpu') as typeof import('@tensorflow/tfjs-backend-cpu')

export const NATIVE_BACKEND = 'native'

type Values = tf.backend_util.BackendValues

function isTypedArray(v: unknown): v is Float32Array | Int32Array | Uint8Array {
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array
}

type PoolArray = Float32Array | Int32Array | Uint8Array

/** Bytes of disposed arrays kept for reuse at most (beyond it they are left to the GC). */
const POOL_LIMIT_BYTES = 1024 * 2 ** 20

export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<string, PoolArray[]>()
  private readonly made = new WeakSet<PoolArray>()
  private pooledBytes = 0

  constructor(readonly kernels: NativeKernels) {
    super()
    // the cpu backend greets its first tensor with an "install tfjs-node" banner
    silenceCpuBanner(this)
  }

  /**
   * An array of n elements for a kernel output, recycled when one of that size is free. Its
   * contents are arbitrary: the kernel must write every element.
   */
  alloc(dtype: tf.DataType, n: number): PoolArray {
    const key = `${dtype}:${n}`
    const free = this.pool.get(key)
    const reused = free?.pop()
    if (reused !== undefined) {
      this.pooledBytes -= reused.byteLength
      return reused
    }
    const a = dtype === 'int32' ? new Int32Array(n) : dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n)
    this.made.add(a)
    return a
  }

  /** Gives an array from alloc() back (e.g. an output a kernel discarded). */
  release(a: PoolArray): void {
    if (!this.made.has(a) || a.length === 0 || this.pooledBytes + a.byteLength > POOL_LIMIT_BYTES) return
    const key = `${a instanceof Int32Array ? 'int32' : a instanceof Uint8Array ? 'bool' : 'float32'}:${a.length}`
    let free = this.pool.get(key)
    if (free === undefined) this.pool.set(key, (free = []))
    free.push(a)
    this.pooledBytes += a.byteLength
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = cpuValues(this, dataId)
    const done = super.disposeData(dataId, force)
    if (!cpuHasData(this, dataId) && isTypedArray(values)) this.release(values)
    return done
  }

  /** Tensors made from host arrays (tf.tensor) own a copy. */
  override write(values: Values, shape: number[], dtype: tf.DataType): tf.DataId {
    if (!isTypedArray(values)) return super.write(values, shape, dtype)
    const own = this.alloc(dtype === 'int32' || dtype === 'bool' ? dtype : 'float32', values.length)
    if (own.constructor === values.constructor) (own as Float32Array).set(values as Float32Array)
    else return super.write(values.slice(), shape, dtype)
    return super.write(own, shape, dtype)
  }

  /** Kernel outputs: the kernel's freshly allocated array is stored as is (no copy). */
  override makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Values | string[]): tf.TensorInfo {
    if (dtype === 'string' || !isTypedArray(values)) return super.makeTensorInfo(shape, dtype, values)
    return {dataId: cpuStoreValues(this, values, dtype), shape, dtype}
  }

  override readSync(dataId: tf.DataId): Values {
    const v = super.readSync(dataId)
    return isTypedArray(v) ? v.slice() : v
  }

  /** The tensor's own storage (no copy): for kernels and in-place updates only. */
  storage(dataId: tf.DataId): CpuTensorData | undefined {
    return cpuTensorData(this, dataId)
  }
}

/**
 * A cpu kernel whose outputs never share an input's buffer: Unpack, SplitV, StridedSlice and
 * others return subarray views of their input, which in-place updates and array recycling
 * must not see. Such outputs get their own copy.
 */
function withoutViews(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const out = kernelFunc(args)
    const backend = args.backend as NativeBackend
    const inputs = Object.values(args.inputs as Record<string, tf.TensorInfo | undefined>)
    const buffers = new Set<ArrayBufferLike>()
    for (const t of inputs) {
      const v = t === undefined ? undefined : backend.storage(t.dataId)?.values
      if (isTypedArray(v)) buffers.add(v.buffer)
    }
    if (buffers.size === 0) return out
    for (const o of Array.isArray(out) ? out : [out]) {
      if (inputs.some((t) => t?.dataId === o.dataId)) continue // the same tensor (reference counted)
      const data = backend.storage(o.dataId)
      if (data !== undefined && isTypedArray(data.values) && buffers.has(data.values.buffer)) data.values = data.values.slice()
    }
    return out
  }
}

let registeredWith: NativeKernels | undefined

/**
 * Registers the `native` backend with `kernels` (once per process: the addon cannot be
 * unloaded): every cpu kernel under the name `native`, then the native kernels over them.
 * Returns the names of the kernels that run in C.
 */
export function registerNativeBackend(kernels: NativeKernels): string[] {
  const configs = nativeKernelConfigs(kernels)
  if (registeredWith === undefined) {
    for (const k of tf.getKernelsForBackend('cpu')) {
      if (tf.getKernel(k.kernelName, NATIVE_BACKEND) === undefined) tf.registerKernel({...k, backendName: NATIVE_BACKEND, kernelFunc: withoutViews(k.kernelFunc)})
    }
    for (const c of configs) {
      if (tf.getKernel(c.kernelName, NATIVE_BACKEND) !== undefined) tf.unregisterKernel(c.kernelName, NATIVE_BACKEND)
      tf.registerKernel(c)
    }
    // priority below tensorflow, above wasm and cpu: a bare tf.ready() never picks it (backend.ts chooses)
    tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(kernels), 0)
    registeredWith = kernels
  }
  return configs.map((c) => c.kernelName)
}
