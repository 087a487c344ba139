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
import type * as tf from '#tfjs'
import {isSharedOffset} from './kernels/wasm-identity.js'
import {float32Storage, nativeOwnedStorage, wasmOwnedStorage} from './tfjs-internals.js'

export interface ExclusiveBuffer {
  values: Float32Array
  /** Call after writing `values` (before the next tfjs op may allocate). */
  done(): void
}

/**
 * The tensor's storage if it can be written in place, else undefined (use tfjs ops then).
 * Not on cpu: its tensors wrap the caller's typed arrays without a copy (tf.tensor(array)), so a
 * write in place could reach a host array someone else holds (e.g. a loaded checkpoint).
 */
export function exclusiveBuffer(t: tf.Tensor): ExclusiveBuffer | undefined {
  const own = wasmOwnedStorage(t, isSharedOffset)
  if (own !== undefined) return own
  const values = nativeOwnedStorage(t)
  // native: written in place, nothing to re-register
  return values !== undefined ? {values, done: () => {}} : undefined
}

/** Read-only float32 view of a tensor's storage on wasm/cpu/native (no copy), else a host copy. */
export function float32View(t: tf.Tensor): Float32Array {
  return float32Storage(t) ?? Float32Array.from(t.dataSync())
}
