/**
 * The `native` TensorFlow.js backend (issue 10): tensors live in ordinary Node memory (the
 * tfjs-backend-cpu storage: one TypedArray per tensor, no 4 GiB heap), and the hot kernels are
 * C kernels of the N-API addon (native/rtd_node_kernels.c) that work in place on those arrays.
 * Every kernel rtd does not write natively is the cpu backend's JS kernel, registered under
 * `native` too, so the backend is complete from the start and gets faster kernel by kernel.
 *
 * Two differences from the cpu backend's storage, both for in-place updates (AdamW, clipping:
 * src/train/exclusive-buffer.ts): `tf.tensor(array)` copies the caller's array (as wasm does),
 * so writing a parameter in place never reaches a host array someone else holds; and reads
 * (`dataSync`, `data`) return copies, so a snapshot taken before an update stays a snapshot.
 */
import * as tf from '@tensorflow/tfjs'
import {MathBackendCPU} from '@tensorflow/tfjs-backend-cpu'
import type {NativeKernels} from '../native/load-native.js'
import {nativeKernelConfigs} from './native-kernels.js'

export const NATIVE_BACKEND = 'native'

type Values = tf.backend_util.BackendValues

function isTypedArray(v: unknown): v is Float32Array | Int32Array | Uint8Array {
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array
}

export class NativeBackend extends MathBackendCPU {
  constructor(readonly kernels: NativeKernels) {
    super()
    // the cpu backend greets its first tensor with an "install tfjs-node" banner
    ;(this as unknown as {firstUse: boolean}).firstUse = false
  }

  /** Tensors made from host arrays (tf.tensor) own a copy. */
  override write(values: Values, shape: number[], dtype: tf.DataType): tf.DataId {
    return super.write(isTypedArray(values) ? values.slice() : values, shape, dtype)
  }

  /** Kernel outputs: the kernel's freshly allocated array is stored as is (no copy). */
  override makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Values | string[]): tf.TensorInfo {
    if (dtype === 'string' || !isTypedArray(values)) return super.makeTensorInfo(shape, dtype, values)
    const dataId = {id: (this as unknown as {nextDataId(): number}).nextDataId()}
    this.data.set(dataId, {values, dtype, refCount: 1})
    return {dataId, shape, dtype}
  }

  override readSync(dataId: tf.DataId): Values {
    const v = super.readSync(dataId)
    return isTypedArray(v) ? v.slice() : v
  }

  /** The tensor's own storage (no copy): for kernels and in-place updates only. */
  storage(dataId: tf.DataId): {values: unknown; refCount: number} | undefined {
    return this.data.get(dataId) as {values: unknown; refCount: number} | undefined
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
      if (tf.getKernel(k.kernelName, NATIVE_BACKEND) === undefined) tf.registerKernel({...k, backendName: NATIVE_BACKEND})
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
