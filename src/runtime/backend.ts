/**
 * Chooses and prepares the TensorFlow.js backend rtd computes on (SPEC A.11, issue 3).
 *
 * - `native` (default when tfjs-node is absent and the addon is built): tensors in Node memory,
 *   hot kernels in C on OpenBLAS and OpenMP (native-backend/); no 4 GiB ceiling.
 * - `wasm` (the no-compiler fallback): SIMD wasm plus the kernels that make it train
 *   and run matmuls fast (O(N) UnsortedSegmentSum, XNNPACK-routed BatchMatMul and fused matmul,
 *   optionally a native BLAS sgemm on the wasm heap).
 * - `cpu`: the pure-JS backend (tiny shapes, tests), with the O(N) UnsortedSegmentSum.
 * - `tensorflow`: `@tensorflow/tfjs-node(-gpu)` when the user installed one; never a dependency.
 * - `webgpu`: tfjs's WebGPU kernels on Dawn (optional packages; webgpu-backend.ts). `auto` takes
 *   it only for a hardware adapter, and starts Dawn only when one is plausible (webgpu-auto-probe.ts).
 */
import * as tf from '#tfjs'
import {ConfigError} from '../errors.js'
import {BACKENDS as BACKEND_CHOICES, NATIVE_MODES as NATIVE_CHOICES, type Backend as BackendChoice, type NativeMode as NativeChoice} from './backend-choices.js'
import {registerBatchMatMulGradient} from './kernels/batch-mat-mul-grad.js'
import {registerUnsortedSegmentSum} from './kernels/unsorted-segment-sum.js'
import {registerWasmBatchMatMul} from './kernels/wasm-batch-mat-mul.js'
import {registerWasmFusedMatMul} from './kernels/wasm-fused-mat-mul.js'
import {registerWasmIdentity} from './kernels/wasm-identity.js'
import {autoWebgpuAdapter} from './webgpu-auto-probe.js'
import {formatAdapter, initWebgpuBackend, type WebgpuAdapter} from './webgpu-backend.js'
import os from 'node:os'
import {NATIVE_BACKEND, registerNativeBackend} from './native-backend/native-backend.js'
import {hasArrayKernels} from './native-backend/native-kernels.js'
import {loadNativeKernels, type NativeKernels} from './native/load-native.js'
import {setNativeArrayUpdateKernels} from './native/native-update.js'
import {registerNativeKernels, unregisterNativeKernels} from './native/register-native.js'
import {internalsUnusable, PINNED_TFJS_VERSION, silenceCpuBanner, wasmHeap} from './tfjs-internals.js'

// The option lists of the pipeline's runtime.backend and runtime.native, declared once in backend-choices.ts.
export {BACKENDS as BACKEND_CHOICES, NATIVE_MODES as NATIVE_CHOICES} from './backend-choices.js'
export type {Backend as BackendChoice, NativeMode as NativeChoice} from './backend-choices.js'

export interface InitBackendOptions {
  /** Which backend to use. Default `auto`: `tensorflow` if tfjs-node is installed, else `webgpu` on a hardware adapter, else `native` if the addon is built, else `wasm`. */
  backend?: BackendChoice
  /** Threads for the native backend (default: the cores) and the wasm backend's native BLAS kernels (default 1). */
  threads?: number
  /**
   * Native BLAS kernels on the wasm heap. `auto` (default): use them when the addon is built and
   * the pinned tfjs version matches, else say why once and run plain wasm. `on`: fail if they
   * cannot load. `off`: never.
   */
  native?: NativeChoice
  /** Where one-line notes go (e.g. "native kernels off: <why>"). Default: nowhere. */
  log?: (msg: string) => void
}

export interface BackendInfo {
  /** The tfjs backend name now active. */
  backend: 'native' | 'wasm' | 'cpu' | 'tensorflow' | 'webgpu'
  /** The GPU adapter (webgpu only). */
  adapter?: WebgpuAdapter
  /** Whether native C kernels are in use (the native backend, or BLAS kernels on wasm). */
  native: boolean
  /** Why native kernels are off (absent when on). */
  nativeReason?: string
  /** BLAS threads in use by the native kernels (1 when native is off). */
  threads: number
  /** Kernels rtd registered over or beside the stock ones. */
  kernels: string[]
  /** The tfjs version the kernels were written against and found. */
  tfjsVersion: string
}

/** Exact version the wasm-internal kernels were written against (tfjs-internals.ts). */
export {PINNED_TFJS_VERSION}

let current: {key: string; info: BackendInfo} | undefined
let pending: Promise<BackendInfo> | undefined

/**
 * Selects, initialises and patches the backend. Idempotent: a second call with the same options
 * returns the same info; with other options it switches backend (kernels stay registered).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  // The environment can switch the addon too (RTD_NATIVE, RTD_NATIVE_ADDON).
  const key = JSON.stringify([opts.backend ?? 'auto', opts.threads ?? 1, opts.native ?? 'auto', process.env['RTD_NATIVE'], process.env['RTD_NATIVE_ADDON']])
  while (pending !== undefined) await pending.catch(() => undefined)
  if (current?.key === key && tf.getBackend() === current.info.backend) return current.info
  pending = doInit(opts)
  try {
    const info = await pending
    current = {key, info}
    return info
  } finally {
    pending = undefined
  }
}

async function doInit(opts: InitBackendOptions): Promise<BackendInfo> {
  const choice = opts.backend ?? 'auto'
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new ConfigError(`runtime.backend '${String(choice)}' is not one of ${BACKEND_CHOICES.join(', ')}`, {code: 'runtime.backend_unknown'})
  }
  const native = opts.native ?? 'auto'
  if (!NATIVE_CHOICES.includes(native)) {
    throw new ConfigError(`runtime.native '${String(native)}' is not one of ${NATIVE_CHOICES.join(', ')}`, {code: 'runtime.native_unknown'})
  }
  const threads = opts.threads ?? 1
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError(`runtime.threads must be a positive integer, got ${threads}`, {code: 'runtime.threads_invalid'})
  }
  const log = opts.log ?? (() => {})
  registerBatchMatMulGradient() // backend-independent fix, see the file
  setNativeArrayUpdateKernels(undefined) // on again below only for the native backend

  if (choice === 'tensorflow' || choice === 'auto') {
    const loaded = await tryLoadTfjsNode()
    if (loaded.ok) {
      await setBackendOrThrow('tensorflow')
      if (choice === 'auto') logOnce(log, 'backend tensorflow: @tensorflow/tfjs-node is installed')
      return {backend: 'tensorflow', native: false, nativeReason: 'tensorflow backend', threads, kernels: ['BatchMatMul gradient'], tfjsVersion: tf.version.tfjs}
    }
    if (choice === 'tensorflow') {
      throw new ConfigError(`runtime.backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which could not be loaded: ${loaded.why}`, {
        code: 'runtime.tensorflow_missing',
        suggestions: [
          `npm install @tensorflow/tfjs-node@${PINNED_TFJS_VERSION} (it downloads libtensorflow at install, so it needs network access)`,
          "or use runtime.backend 'wasm' (the default without tfjs-node) or 'cpu'",
        ],
      })
    }
  }

  if (choice === 'webgpu' || choice === 'auto') {
    // auto: only a hardware adapter beats the CPU backends (a software one computes on the CPU,
    // slower), and Dawn is started only when one is plausible (webgpu-auto-probe.ts)
    const auto = choice === 'auto' ? await autoWebgpuAdapter() : undefined
    if (choice === 'webgpu' || auto?.hardware === true) {
      try {
        const adapter = await initWebgpuBackend()
        log(`webgpu adapter: ${formatAdapter(adapter)}`)
        return {backend: 'webgpu', adapter, native: false, nativeReason: 'webgpu backend', threads: 1, kernels: ['BatchMatMul gradient', 'AddN in groups'], tfjsVersion: tf.version.tfjs}
      } catch (err) {
        if (choice === 'webgpu') throw err
        logOnce(log, `webgpu not used: ${(err as Error).message}`) // auto: carry on with the CPU backends
      }
    }
  }

  if (choice === 'native' || choice === 'auto') {
    const nativeThreads = opts.threads ?? os.availableParallelism()
    const started = await startNativeBackend(nativeThreads)
    if (started.ok) {
      if (choice === 'auto') logOnce(log, `backend native: C kernels on OpenBLAS${started.openmp ? ' and OpenMP' : ''}, ${nativeThreads} thread${nativeThreads === 1 ? '' : 's'} (tfjs-node is not installed)`)
      return {backend: 'native', native: true, threads: nativeThreads, kernels: started.kernels.map((k) => `native:${k}`), tfjsVersion: tf.version.tfjs}
    }
    if (choice === 'native') {
      throw new ConfigError(`runtime.backend 'native' cannot start: ${started.why}`, {
        code: 'runtime.native_unavailable',
        suggestions: ['install a C compiler and libopenblas-dev (apt-get install build-essential libopenblas-dev), then run `node native/build.mjs`', "or use runtime.backend 'wasm'"],
      })
    }
    logOnce(log, `backend wasm: the native backend is unavailable (${started.why}); for a faster backend without the 4 GiB limit install build-essential and libopenblas-dev, then run \`node native/build.mjs\``)
  }

  if (choice === 'cpu') {
    await setBackendOrThrow('cpu')
    registerUnsortedSegmentSum('cpu')
    return {backend: 'cpu', native: false, nativeReason: 'cpu backend', threads: 1, kernels: ['UnsortedSegmentSum', 'BatchMatMul gradient'], tfjsVersion: tf.version.tfjs}
  }

  // wasm (explicit, or auto without tfjs-node)
  await import('@tensorflow/tfjs-backend-wasm')
  // The threaded wasm build cannot start its workers in Node (SPEC A.11): always take the SIMD one.
  if (tf.findBackend('wasm') == null) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
  // Initialise first: kernels are replaced only after the stock setupFuncs have run.
  await setBackendOrThrow('wasm')
  registerUnsortedSegmentSum('wasm')
  registerUnsortedSegmentSum('cpu') // tfjs may fall back to cpu for small host-side work
  // Identity, the matmul and native kernels reach into wasm-backend internals (tfjs-internals.ts)
  // laid out for exactly the pinned version.
  const unusable = internalsUnusable({wasm: true})
  if (unusable !== undefined) {
    const why = `rtd's fast wasm kernels need ${unusable}`
    if (native === 'on') {
      throw new ConfigError(`runtime.native 'on' but ${why}`, {code: 'runtime.native_unavailable',
        suggestions: [`npm install --save-exact @tensorflow/tfjs@${PINNED_TFJS_VERSION} @tensorflow/tfjs-backend-wasm@${PINNED_TFJS_VERSION}`]})
    }
    logOnce(log, `native kernels off: ${why}; using the stock matmul kernels`)
    return {backend: 'wasm', native: false, nativeReason: why, threads: 1, kernels: ['UnsortedSegmentSum', 'BatchMatMul gradient'], tfjsVersion: tf.version.tfjs}
  }
  registerWasmIdentity() // clones (tensors saved for backprop) share the buffer instead of copying it
  let nativeKernels: NativeKernels | undefined
  let nativeReason: string | undefined
  if (native !== 'off') {
    const loaded = loadNativeKernels()
    const heap = wasmHeap()
    if (!loaded.ok) nativeReason = loaded.why
    else if (!(heap instanceof ArrayBuffer)) nativeReason = 'the wasm heap is a SharedArrayBuffer (threaded build)'
    else nativeKernels = loaded.kernels
  } else {
    nativeReason = 'disabled by runtime.native: off'
  }
  if (native === 'on' && nativeKernels === undefined) {
    throw new ConfigError(`runtime.native 'on' but the native kernels cannot be used: ${nativeReason}`, {
      code: 'runtime.native_unavailable',
      suggestions: ['install a C compiler and libopenblas-dev, then run `node native/build.mjs`', "or set runtime.native to 'auto' or 'off'"],
    })
  }
  const kernels = ['UnsortedSegmentSum', 'BatchMatMul gradient', 'BatchMatMul', '_FusedMatMul']
  if (nativeKernels !== undefined) {
    nativeKernels.setThreads(threads)
    const names = registerNativeKernels({kernels: nativeKernels, log})
    kernels.push(...names.map((n) => `native:${n}`))
  } else {
    unregisterNativeKernels()
    registerWasmBatchMatMul()
    registerWasmFusedMatMul()
    if (native === 'auto') logOnce(log, `native kernels off: ${nativeReason}`)
  }
  const info: BackendInfo = {backend: 'wasm', native: nativeKernels !== undefined, threads: nativeKernels ? threads : 1, kernels, tfjsVersion: tf.version.tfjs}
  if (nativeReason !== undefined && nativeKernels === undefined) info.nativeReason = nativeReason
  return info
}

/** Registers and activates the native backend; why not when the addon is missing or too old. */
async function startNativeBackend(threads: number): Promise<{ok: true; kernels: string[]; openmp: boolean} | {ok: false; why: string}> {
  // the backend extends the cpu backend's internals (tfjs-internals.ts)
  const unusable = internalsUnusable({cpu: true})
  if (unusable !== undefined) return {ok: false, why: `it needs ${unusable}`}
  const loaded = loadNativeKernels()
  if (!loaded.ok) return {ok: false, why: loaded.why}
  const kernels = loaded.kernels
  if (!hasArrayKernels(kernels)) return {ok: false, why: `${loaded.path} predates the native backend (rebuild with \`node native/build.mjs\`)`}
  const names = registerNativeBackend(kernels)
  await setBackendOrThrow(NATIVE_BACKEND)
  kernels.setThreadsAll(threads)
  setNativeArrayUpdateKernels(kernels)
  return {ok: true, kernels: [...names, 'AdamW', 'SumSquares', 'Scale'], openmp: kernels.openmp()}
}

const logged = new Set<string>()
function logOnce(log: (msg: string) => void, msg: string): void {
  if (logged.has(msg)) return
  logged.add(msg)
  log(msg)
}

async function tryLoadTfjsNode(): Promise<{ok: true} | {ok: false; why: string}> {
  const reasons: string[] = []
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(name)
      if (tf.findBackend('tensorflow') != null) return {ok: true}
      reasons.push(`${name} loaded but registered no 'tensorflow' backend`)
    } catch (err) {
      reasons.push(`${name}: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  return {ok: false, why: reasons.join('; ')}
}

async function setBackendOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  await tf.ready()
  // The cpu backend prints a "install tfjs-node" banner on first use; runtime.backend covers that choice.
  silenceCpuBanner()
  if (!ok || tf.getBackend() !== name) {
    throw new ConfigError(`could not initialise the TensorFlow.js '${name}' backend`, {code: 'runtime.backend_init_failed'})
  }
}
