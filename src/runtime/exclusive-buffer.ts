/**
 * Writable access to a float32 tensor's own storage, for updates in place (AdamW, clipping,
 * accumulation) that would otherwise allocate several temporaries the size of the parameter
 * (197 MB each for deberta-v3's word table).
 *
 * Only when nothing else can see the buffer: the backend is wasm (whose tensors live in its own
 * heap) or native (whose tensors own their arrays: tf.tensor copies, reads copy), and no other
 * tensor shares it (reference count 1, no zero-copy clone on the same heap
 * offset). `done()` re-registers the tensor id, which drops XNNPACK operators cached with the old
 * values (they pack a matmul's right operand by tensor id).
 */
import * as tf from '@tensorflow/tfjs'
import {isSharedOffset} from './kernels/wasm-identity.js'

export interface ExclusiveBuffer {
  values: Float32Array
  /** Call after writing `values` (before the next tfjs op may allocate). */
  done(): void
}

interface WasmLike {
  dataIdMap: {get(dataId: tf.DataId): {id: number; memoryOffset: number | null; refCount: number} | undefined}
  wasm: {HEAPU8: Uint8Array; tfjs: {disposeData(id: number): void; registerTensor(id: number, size: number, offset: number): void}}
}

interface CpuLike {
  data: {get(dataId: tf.DataId): {values?: unknown; refCount: number} | undefined}
}

/** The tensor's storage if it can be written in place, else undefined (use tfjs ops then). */
export function exclusiveBuffer(t: tf.Tensor): ExclusiveBuffer | undefined {
  if (t.dtype !== 'float32' || t.isDisposed) return undefined
  const name = tf.getBackend()
  const backend = tf.backend() as unknown
  // the tensor must live on the active backend
  const info = (tf.engine() as unknown as {state: {tensorInfo: WeakMap<tf.DataId, {backend: unknown}>}}).state.tensorInfo.get(t.dataId)
  if (info?.backend !== backend) return undefined
  if (name === 'wasm') {
    const b = backend as WasmLike
    const data = b.dataIdMap.get(t.dataId)
    if (data === undefined || data.memoryOffset == null || data.refCount !== 1 || isSharedOffset(data.memoryOffset)) return undefined
    const {id, memoryOffset} = data
    const values = new Float32Array(b.wasm.HEAPU8.buffer, memoryOffset, t.size)
    return {
      values,
      done: () => {
        b.wasm.tfjs.disposeData(id)
        b.wasm.tfjs.registerTensor(id, t.size, memoryOffset)
      },
    }
  }
  if (name === 'native') {
    const data = (backend as CpuLike).data.get(t.dataId)
    const values = data?.values
    // a view into a larger buffer may share it with another tensor: only whole arrays
    if (data === undefined || data.refCount !== 1 || !(values instanceof Float32Array) || values.length !== t.size || values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength) return undefined
    return {values, done: () => {}}
  }
  // Not cpu: its tensors wrap the caller's typed arrays without a copy (tf.tensor(array)), so a
  // write in place could reach a host array someone else holds (e.g. a loaded checkpoint).
  return undefined
}

/** Read-only float32 view of a tensor's storage on wasm/cpu/native (no copy), else a host copy. */
export function float32View(t: tf.Tensor): Float32Array {
  const name = tf.getBackend()
  if (t.dtype === 'float32' && name === 'wasm') {
    const b = tf.backend() as unknown as WasmLike
    const data = b.dataIdMap.get(t.dataId)
    if (data?.memoryOffset != null) return new Float32Array(b.wasm.HEAPU8.buffer, data.memoryOffset, t.size)
  }
  if (t.dtype === 'float32' && (name === 'cpu' || name === 'native')) {
    const values = (tf.backend() as unknown as CpuLike).data.get(t.dataId)?.values
    if (values instanceof Float32Array) return values
  }
  return Float32Array.from(t.dataSync())
}
