/**
 * Every use of TensorFlow.js internals (fields and functions outside its public API) goes
 * through this module, typed once here against tfjs 4.22.0: the engine's gradient tape and
 * tensor registry, the wasm backend's tensor table, heap and C entry points, the cpu backend's
 * storage (which the native backend extends), and the webgpu backend's device and host copies.
 *
 * The installed packages must be the pinned version (internalsUnusable). Accessors that run
 * once per operation check it themselves and report the internals unusable (undefined / false)
 * on another version, so callers take their public-API path. The per-element hot paths of
 * kernels (wasm tensor ids, cpu storage) do not: their kernels and the native backend are
 * registered only after backend.ts made the check. test/src/runtime/tfjs-internals.test.ts
 * fails when another file reaches into these internals.
 */
import {createRequire} from 'node:module'
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'

/** Exact version the internals below were written against. */
export const PINNED_TFJS_VERSION = '4.22.0'

const BACKEND_PACKAGES = {wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs-backend-cpu', webgpu: '@tensorflow/tfjs-backend-webgpu'} as const
type BackendPackage = keyof typeof BACKEND_PACKAGES

const versions = new Map<string, string | undefined>()
/** A package's installed version, from its package.json (importing it could register a backend); undefined when absent. */
function installedVersion(name: string): string | undefined {
  if (!versions.has(name)) {
    let v: string | undefined
    try {
      v = (createRequire(import.meta.url)(`${name}/package.json`) as {version: string}).version
    } catch {
      v = undefined
    }
    versions.set(name, v)
  }
  return versions.get(name)
}

/**
 * Why the internals of tfjs-core and of the named backends cannot be used (a package is not
 * the pinned version), or undefined when they can. E.g. "@tensorflow/tfjs-backend-wasm
 * 4.22.0 (found 4.23.0)".
 */
export function internalsUnusable(opts: {[K in BackendPackage]?: boolean} = {}): string | undefined {
  const found: [string, string | undefined][] = [['@tensorflow/tfjs', tf.version.tfjs]]
  for (const k of Object.keys(BACKEND_PACKAGES) as BackendPackage[]) if (opts[k]) found.push([BACKEND_PACKAGES[k], installedVersion(BACKEND_PACKAGES[k])])
  const off = found.filter(([, v]) => v !== PINNED_TFJS_VERSION)
  if (off.length === 0) return undefined
  return `${off.map(([n]) => n).join(' and ')} ${PINNED_TFJS_VERSION} (found ${off.map(([, v]) => v ?? 'none').join(' and ')})`
}
const engineOk = (): boolean => tf.version.tfjs === PINNED_TFJS_VERSION
let wasmChecked: boolean | undefined
const wasmOk = (): boolean => (wasmChecked ??= internalsUnusable({wasm: true}) === undefined)
let webgpuChecked: boolean | undefined
const webgpuOk = (): boolean => (webgpuChecked ??= internalsUnusable({webgpu: true}) === undefined)

// --- engine (tfjs-core engine.ts) ---

interface EngineInternals {
  state: {activeTape: unknown; tensorInfo: WeakMap<tf.DataId, {backend: unknown}>}
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): {value: tf.Tensor; grads: (tf.Tensor | undefined)[]}
}
const engine = (): EngineInternals => tf.engine() as unknown as EngineInternals

/**
 * engine.gradients of `f` run inside a custom gradient's gradFunc (recompute.ts). A nested
 * engine.gradients at gradient depth 0 replaces and then clears the engine's active tape, which
 * the outer backward pass still has to free: it is put back. Undefined on another tfjs version.
 */
export function nestedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): {value: tf.Tensor; grads: (tf.Tensor | undefined)[]} | undefined {
  if (!engineOk()) return undefined
  const e = engine()
  const outerTape = e.state.activeTape
  try {
    return e.gradients(f, xs, dy, true)
  } finally {
    e.state.activeTape = outerTape
  }
}

/** Whether nestedGradients works here (callers choose their path before building a graph). */
export function nestedGradientsUsable(): boolean {
  return engineOk()
}

/** Whether tensor `t` lives on the active backend (engine's tensor registry). */
function onActiveBackend(t: tf.Tensor): boolean {
  return engine().state.tensorInfo.get(t.dataId)?.backend === tf.backend()
}

// --- wasm backend (tfjs-backend-wasm backend_wasm.ts) ---

interface WasmTensorData {
  id: number
  memoryOffset: number | null
  refCount: number
}
interface WasmInternals {
  dataIdMap: {get(dataId: tf.DataId): WasmTensorData | undefined; delete(dataId: tf.DataId): void}
  dataIdNextNumber: number
  disposeData(dataId: tf.DataId, force?: boolean): boolean
  wasm: {
    HEAPU8: Uint8Array
    cwrap(name: string, ret: null, args: string[]): unknown
    tfjs: {registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void}
  }
}
const wasmOf = (backend: BackendWasm): WasmInternals => backend as unknown as WasmInternals

/** The active wasm backend, when it is active and its internals usable. */
function activeWasm(): WasmInternals | undefined {
  return tf.getBackend() === 'wasm' && wasmOk() ? (tf.backend() as unknown as WasmInternals) : undefined
}

/** The wasm heap (read at each call: heap growth replaces the buffer); undefined when wasm is not active or not the pinned version. */
export function wasmHeap(backend?: BackendWasm): ArrayBuffer | undefined {
  const b = backend !== undefined ? (wasmOk() ? wasmOf(backend) : undefined) : activeWasm()
  return b?.wasm.HEAPU8.buffer as ArrayBuffer | undefined
}

/** The wasm backend's record of a tensor: its C-side id, heap offset and reference count. */
export function wasmTensorData(backend: BackendWasm, dataId: tf.DataId): WasmTensorData | undefined {
  return wasmOf(backend).dataIdMap.get(dataId)
}

/** The C-side id of a tensor on the wasm heap. */
export function wasmTensorId(backend: BackendWasm, dataId: tf.DataId): number {
  return wasmOf(backend).dataIdMap.get(dataId)!.id
}

/** A C function of the wasm module (cwrap). */
export function wasmFunction<F>(backend: BackendWasm, name: string, args: string[]): F {
  return wasmOf(backend).wasm.cwrap(name, null, args) as F
}

/** Registers a new C-side tensor id over `size` values at `offset` (aliasing memory someone else owns). */
export function wasmRegisterView(backend: BackendWasm, offset: number, size: number): number {
  const b = wasmOf(backend)
  const id = b.dataIdNextNumber++
  b.wasm.tfjs.registerTensor(id, size, offset)
  return id
}

/** Forgets a C-side tensor id (and XNNPACK operators cached for it) without freeing its memory. */
export function wasmForgetId(backend: BackendWasm, id: number): void {
  wasmOf(backend).wasm.tfjs.disposeData(id)
}

/** Re-registers a tensor's id at its offset: drops XNNPACK operators cached with its old values. */
function wasmRefreshId(backend: WasmInternals, id: number, size: number, offset: number): void {
  backend.wasm.tfjs.disposeData(id)
  backend.wasm.tfjs.registerTensor(id, size, offset)
}

/**
 * Wraps the backend's disposeData (wasm-identity.ts: a shared offset is freed with its last id).
 * `wrap` gets the original and the backend's tensor table.
 */
export function wrapWasmDisposeData(
  backend: BackendWasm,
  wrap: (original: (dataId: tf.DataId, force?: boolean) => boolean, table: WasmInternals['dataIdMap'], forgetId: (id: number) => void) => (dataId: tf.DataId, force?: boolean) => boolean,
): void {
  const b = wasmOf(backend)
  b.disposeData = wrap(b.disposeData.bind(backend), b.dataIdMap, (id) => b.wasm.tfjs.disposeData(id))
}

// --- cpu backend (tfjs-backend-cpu backend_cpu.ts), and the native backend that extends it ---

/** The cpu backend's record of a tensor (its DataStorage entry). */
export interface CpuTensorData {
  values?: unknown
  dtype: tf.DataType
  refCount: number
}
interface CpuInternals {
  data: {get(dataId: tf.DataId): CpuTensorData | undefined; set(dataId: tf.DataId, d: CpuTensorData): void; has(dataId: tf.DataId): boolean}
  firstUse?: boolean
  nextDataId(): number
}
const cpuOf = (backend: unknown): CpuInternals => backend as CpuInternals

/** The cpu (or native) backend's record of a tensor, holding its values array (no copy). */
export function cpuTensorData(backend: unknown, dataId: tf.DataId): CpuTensorData | undefined {
  return cpuOf(backend).data.get(dataId)
}

/** The values array the cpu (or native) backend keeps for a tensor (no copy). */
export function cpuValues(backend: unknown, dataId: tf.DataId): unknown {
  return cpuOf(backend).data.get(dataId)?.values
}

/** Whether the cpu (or native) backend still holds a tensor's data. */
export function cpuHasData(backend: unknown, dataId: tf.DataId): boolean {
  return cpuOf(backend).data.has(dataId)
}

/** Stores `values` as a new tensor of a cpu-based backend (no copy); returns its data id. */
export function cpuStoreValues(backend: unknown, values: unknown, dtype: tf.DataType): tf.DataId {
  const b = cpuOf(backend)
  const dataId = {id: b.nextDataId()}
  b.data.set(dataId, {values, dtype, refCount: 1})
  return dataId
}

/** Stops the cpu backend's one-time "install tfjs-node" banner (runtime.backend covers that choice); `backend`: a cpu-based backend, default the registered cpu one. */
export function silenceCpuBanner(backend?: unknown): void {
  const cpu = (backend ?? tf.findBackend('cpu')) as CpuInternals | null
  if (cpu != null && 'firstUse' in cpu) cpu.firstUse = false
}

// --- webgpu backend (tfjs-backend-webgpu backend_webgpu.ts) ---

interface WebgpuInternals {
  device?: {limits: {maxStorageBuffersPerShaderStage: number}; onuncapturederror: unknown}
  tensorMap?: {get(dataId: tf.DataId): {values: unknown; resource: unknown} | undefined}
}

/** The active webgpu backend, when it is active and its internals usable. */
function activeWebgpu(): WebgpuInternals | undefined {
  return tf.getBackend() === 'webgpu' && webgpuOk() ? (tf.backend() as unknown as WebgpuInternals) : undefined
}

/** Storage buffers one shader may bind on `backend`'s device (webgpu-add-n.ts), or undefined when unknown. */
export function webgpuStorageBufferLimit(backend: unknown): number | undefined {
  return webgpuOk() ? (backend as WebgpuInternals).device?.limits.maxStorageBuffersPerShaderStage : undefined
}

/** Routes the active webgpu device's uncaptured errors (validation errors) to `handler`; false when it cannot. */
export function onWebgpuDeviceError(handler: (message: string) => void): boolean {
  const device = activeWebgpu()?.device
  if (device === undefined) return false
  device.onuncapturederror = (ev: {error?: {message?: string}}) => handler(ev.error?.message ?? 'unknown GPU error')
  return true
}

/** Whether a webgpu tensor has no host copy of its values yet (false when unknown). */
export function webgpuLacksHostCopy(dataId: tf.DataId): boolean {
  const d = activeWebgpu()?.tensorMap?.get(dataId)
  return d !== undefined && d.values == null
}

/** Drops a webgpu tensor's host copy when its GPU buffer holds the values. */
export function webgpuDropHostCopy(dataId: tf.DataId): void {
  const d = activeWebgpu()?.tensorMap?.get(dataId)
  if (d !== undefined && d.resource != null) d.values = null
}

// --- storage of one tensor, for updates in place (exclusive-buffer.ts) ---

/**
 * Writable float32 storage of `t` on the wasm heap when nothing else can see it (reference count
 * 1, not shared with a zero-copy clone: `isShared(offset)`), with `done` to call after writing.
 */
export function wasmOwnedStorage(t: tf.Tensor, isShared: (offset: number) => boolean): {values: Float32Array; done(): void} | undefined {
  const b = activeWasm()
  if (b === undefined || t.dtype !== 'float32' || t.isDisposed || !onActiveBackend(t)) return undefined
  const data = b.dataIdMap.get(t.dataId)
  if (data === undefined || data.memoryOffset == null || data.refCount !== 1 || isShared(data.memoryOffset)) return undefined
  const {id, memoryOffset} = data
  return {values: new Float32Array(b.wasm.HEAPU8.buffer, memoryOffset, t.size), done: () => wasmRefreshId(b, id, t.size, memoryOffset)}
}

/**
 * The float32 array of `t` on the native backend when nothing else can see it (reference count
 * 1, a whole array: a view into a larger buffer may share it with another tensor).
 */
export function nativeOwnedStorage(t: tf.Tensor): Float32Array | undefined {
  if (tf.getBackend() !== 'native' || t.dtype !== 'float32' || t.isDisposed || !engineOk() || !onActiveBackend(t)) return undefined
  const data = cpuOf(tf.backend()).data.get(t.dataId)
  const values = data?.values
  if (data === undefined || data.refCount !== 1 || !(values instanceof Float32Array) || values.length !== t.size || values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength) return undefined
  return values
}

/** Read-only float32 view of `t`'s storage on wasm, cpu or native (no copy), or undefined. */
export function float32Storage(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined
  const name = tf.getBackend()
  if (name === 'wasm') {
    const b = activeWasm()
    const data = b?.dataIdMap.get(t.dataId)
    return data?.memoryOffset != null ? new Float32Array(b!.wasm.HEAPU8.buffer, data.memoryOffset, t.size) : undefined
  }
  if ((name === 'cpu' || name === 'native') && engineOk()) {
    const values = cpuValues(tf.backend(), t.dataId)
    return values instanceof Float32Array ? values : undefined
  }
  return undefined
}
