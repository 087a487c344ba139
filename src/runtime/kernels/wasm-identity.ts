/**
 * Zero-copy Identity for the wasm backend.
 *
 * tfjs clones tensors through the Identity kernel: every tensor a kernel saves for backprop
 * (engine.saveTensorsForBackwardMode), every `tf.clone`/`x.clone()`. The stock wasm Identity
 * copies the data, so a training step held a full copy of each saved input, weights included
 * (three copies of the 197 MB [V, H] word table of deberta-v3 in one GDES step).
 *
 * Here the clone is a new tensor id registered at the same heap offset (as wasm kernels do for
 * memory they allocate themselves), and the backend's disposeData is taught to free an offset
 * only when its last id goes. A new id rather than a shared one (as the cpu backend and wasm's
 * Reshape do) because XNNPACK caches packed operators by the right operand's id: a weight used
 * transposed in the forward pass and plain in the backward under one id hit a stale operator
 * (NaN gradients). Safe because tfjs never writes into a tensor's buffer after creating it
 * (Variable.assign rebinds the variable to another buffer).
 */
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {wasmTensorData, wrapWasmDisposeData} from '../tfjs-internals.js'
import {replaceKernel, stockKernel} from './register-kernel.js'

/**
 * Heap offset → number of live tensor ids on it, for offsets shared by a clone (absent: one owner).
 * Kept on globalThis, like tfjs's kernel registry: when this module is loaded twice (mocha
 * require()s some test files and import()s others), whichever copy's kernel is registered must
 * see the same counts as exclusive-buffer.ts's copy.
 */
const shared = globalThis as unknown as Record<symbol, {owners: Map<number, number>; patched: WeakSet<object>} | undefined>
const state = (shared[Symbol.for('rtd.wasm-identity')] ??= {owners: new Map(), patched: new WeakSet()})
const owners = state.owners
const patched = state.patched

/** Wraps backend.disposeData so that a shared offset is freed with its last id only. */
function patchDispose(backend: BackendWasm): void {
  if (patched.has(backend)) return
  patched.add(backend)
  wrapWasmDisposeData(backend, (original, table, forgetId) => (dataId: tf.DataId, force = false): boolean => {
    const data = table.get(dataId)
    const n = data?.memoryOffset == null ? undefined : owners.get(data.memoryOffset)
    if (data === undefined || n === undefined) return original(dataId, force)
    if (!force && data.refCount > 1) {
      data.refCount--
      return false
    }
    // This id goes; the memory stays with the other ids on the offset.
    if (n > 2) owners.set(data.memoryOffset!, n - 1)
    else owners.delete(data.memoryOffset!)
    forgetId(data.id)
    table.delete(dataId)
    return true
  })
}

function wasmIdentity(args: {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}): tf.TensorInfo {
  const {x} = args.inputs as {x: tf.TensorInfo}
  const backend = args.backend
  const data = wasmTensorData(backend, x.dataId)
  const offset = data?.memoryOffset
  if (x.dtype === 'string' || offset == null || tf.util.sizeFromShape(x.shape) === 0) {
    return stockKernel(tf.Identity, 'wasm')!.kernelFunc(args as never) as tf.TensorInfo
  }
  patchDispose(backend)
  owners.set(offset, (owners.get(offset) ?? 1) + 1)
  return backend.makeOutput([...x.shape], x.dtype, offset)
}

/** Replaces the wasm backend's copying Identity (call after the backend is initialised). */
export function registerWasmIdentity(): void {
  replaceKernel({kernelName: tf.Identity, backendName: 'wasm', kernelFunc: wasmIdentity as unknown as tf.KernelFunc})
}

/** Whether another tensor id shares this heap offset (a clone made by this Identity). */
export function isSharedOffset(offset: number): boolean {
  return owners.has(offset)
}
