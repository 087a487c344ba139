/**
 * The `webgpu` backend (issue 11): TensorFlow.js's WebGPU kernels on Dawn, through two optional
 * npm packages: `webgpu` (Dawn's Node binding; ships dawn.node, downloads nothing) and
 * `@tensorflow/tfjs-backend-webgpu`. rtd installs and runs without them.
 *
 * Dawn needs a Vulkan driver on Linux (Metal on macOS, D3D12 on Windows). A software driver
 * (Mesa's lavapipe, "llvmpipe") works for correctness tests but computes on the CPU, so `auto`
 * takes webgpu only for a hardware adapter; `webgpu` asked for by name accepts either and says
 * which it got.
 *
 * Reads: in Node, tfjs-backend-webgpu's synchronous reads (dataSync, arraySync) need
 * OffscreenCanvas and throw; every read on this backend is async (see host-reads.ts).
 */
import {createRequire} from 'node:module'
import * as tf from '#tfjs'
import {ConfigError} from '../errors.js'
import {registerWebgpuAddN} from './kernels/webgpu-add-n.js'
import {onWebgpuDeviceError} from './tfjs-internals.js'

/** The optional packages and the versions rtd was tested with. */
export const WEBGPU_PACKAGES = {webgpu: '0.6.2', backend: '@tensorflow/tfjs-backend-webgpu'} as const

export interface WebgpuAdapter {
  /** e.g. 'nvidia', 'amd', 'mesa' (from GPUAdapterInfo). */
  vendor: string
  /** e.g. 'ampere', 'rdna-3', 'software'. */
  architecture: string
  device: string
  /** Driver's own name, e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'. */
  description: string
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): correct, but no faster than wasm. */
  software: boolean
  /** Largest tensor the device can bind (maxStorageBufferBindingSize): e.g. 128 MiB on lavapipe, ~4 GiB on desktop GPUs. */
  maxTensorBytes: number
}

export type WebgpuProbe = {ok: true; adapter: WebgpuAdapter} | {ok: false; why: string; suggestions: string[]}

interface DawnModule {
  create(flags: string[]): GpuLike
  globals: Record<string, unknown>
}
interface GpuLike {
  requestAdapter(opts?: {powerPreference?: string}): Promise<AdapterLike | null>
}
interface AdapterLike {
  info?: Record<string, unknown>
  isFallbackAdapter?: boolean
  limits?: {maxStorageBufferBindingSize?: number; maxBufferSize?: number}
}

function installSuggestion(tfjsVersion: string): string {
  return `npm install webgpu@${WEBGPU_PACKAGES.webgpu} ${WEBGPU_PACKAGES.backend}@${tfjsVersion} (both are optional dependencies of rtd; they download nothing else)`
}

const DRIVER_SUGGESTIONS = [
  'Linux needs a Vulkan driver: NVIDIA -- the proprietary driver (it ships libnvidia-vulkan / nvidia_icd.json); AMD and Intel -- mesa-vulkan-drivers (radv / anv); check with `vulkaninfo --summary` (package vulkan-tools)',
  'for a software adapter (tests only, on the CPU): Debian 12 `apt-get install -t bookworm-backports mesa-vulkan-drivers` (Mesa 25; Debian 12\'s own 22.3 lavapipe is refused by Dawn)',
  'see docs/gpu.md',
]

let dawn: {gpu: GpuLike} | undefined
let probed: Promise<WebgpuProbe> | undefined

/** Loads Dawn and exposes it as navigator.gpu (and the GPU* constants) the way tfjs-backend-webgpu expects in a browser. */
async function loadDawn(): Promise<{gpu: GpuLike} | {why: string}> {
  if (dawn) return dawn
  let mod: DawnModule
  try {
    const name = 'webgpu' // through a variable: an optional package, not resolved at build time
    mod = (await import(name)) as DawnModule
  } catch (err) {
    return {why: `the optional package 'webgpu' (Dawn for Node) could not be loaded: ${(err as Error).message.split('\n')[0]}`}
  }
  const g = globalThis as Record<string, unknown>
  let gpu: GpuLike
  try {
    gpu = mod.create([])
  } catch (err) {
    return {why: `Dawn could not start: ${(err as Error).message.split('\n')[0]}`}
  }
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v
  // Node 20 has no navigator; Node >= 21 has one without `gpu`.
  const nav = g['navigator'] as Record<string, unknown> | undefined
  if (nav === undefined) g['navigator'] = {gpu}
  else if (nav['gpu'] === undefined) Object.defineProperty(nav, 'gpu', {value: gpu, configurable: true})
  dawn = {gpu}
  return dawn
}

function describeAdapter(a: AdapterLike): WebgpuAdapter {
  const info = a.info ?? {}
  const str = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : '')
  const description = str('description')
  const architecture = str('architecture')
  const fallback = info['isFallbackAdapter'] === true || a.isFallbackAdapter === true
  const software = fallback || architecture === 'software' || /llvmpipe|lavapipe|swiftshader|microsoft basic render/i.test(`${description} ${str('device')}`)
  const maxTensorBytes = Math.min(a.limits?.maxStorageBufferBindingSize ?? 0, a.limits?.maxBufferSize ?? Infinity)
  return {vendor: str('vendor') || 'unknown', architecture: architecture || 'unknown', device: str('device'), description, software, maxTensorBytes}
}

/** Loads Dawn and asks it for an adapter (once per process): what `webgpu` would run on, or why it cannot. */
export function probeWebgpu(): Promise<WebgpuProbe> {
  probed ??= (async (): Promise<WebgpuProbe> => {
    const loaded = await loadDawn()
    if ('why' in loaded) return {ok: false, why: loaded.why, suggestions: [installSuggestion(tf.version.tfjs)]}
    let adapter: AdapterLike | null
    try {
      adapter = await loaded.gpu.requestAdapter({powerPreference: 'high-performance'})
    } catch (err) {
      return {ok: false, why: `Dawn could not enumerate adapters: ${(err as Error).message}`, suggestions: DRIVER_SUGGESTIONS}
    }
    if (adapter == null) return {ok: false, why: 'Dawn found no usable WebGPU adapter (no Vulkan driver, or one Dawn refuses, e.g. Mesa 22.x lavapipe)', suggestions: DRIVER_SUGGESTIONS}
    return {ok: true, adapter: describeAdapter(adapter)}
  })()
  return probed
}

/** One line for logs: "nvidia ampere (NVIDIA GeForce RTX 3090)" or "... software adapter". */
export function formatAdapter(a: WebgpuAdapter): string {
  const name = a.description || a.device
  return `${a.vendor} ${a.architecture}${name ? ` (${name})` : ''}, tensors up to ${(a.maxTensorBytes / 2 ** 20).toFixed(0)} MiB${a.software ? ', software adapter: computes on the CPU' : ''}`
}

/**
 * Makes `webgpu` the active tfjs backend. Throws a ConfigError naming what to install when the
 * packages or an adapter are missing, or the device cannot be created.
 */
export async function initWebgpuBackend(): Promise<WebgpuAdapter> {
  const probe = await probeWebgpu()
  if (!probe.ok) throw new ConfigError(`runtime.backend 'webgpu' is unavailable: ${probe.why}`, {code: 'runtime.webgpu_unavailable', suggestions: [...probe.suggestions, "or use runtime.backend 'wasm' or 'cpu'"]})
  let backendVersion: string
  try {
    const name = WEBGPU_PACKAGES.backend
    backendVersion = (createRequire(import.meta.url)(`${name}/package.json`) as {version: string}).version
    // registers the 'webgpu' backend only when navigator.gpu exists, hence after probeWebgpu
    await import(name)
  } catch (err) {
    throw new ConfigError(`runtime.backend 'webgpu' needs ${WEBGPU_PACKAGES.backend}, which could not be loaded: ${(err as Error).message.split('\n')[0]}`, {
      code: 'runtime.webgpu_unavailable',
      suggestions: [installSuggestion(tf.version.tfjs)],
    })
  }
  if (backendVersion !== tf.version.tfjs) {
    throw new ConfigError(`${WEBGPU_PACKAGES.backend} ${backendVersion} does not match @tensorflow/tfjs ${tf.version.tfjs}`, {
      code: 'runtime.webgpu_unavailable',
      suggestions: [`npm install --save-exact ${WEBGPU_PACKAGES.backend}@${tf.version.tfjs}`],
    })
  }
  // tfjs prints and swallows a failing backend factory (e.g. requestDevice refused): catch that as `false`.
  const ok = await tf.setBackend('webgpu').catch(() => false)
  if (!ok || tf.getBackend() !== 'webgpu') {
    throw new ConfigError(`runtime.backend 'webgpu': the adapter ${formatAdapter(probe.adapter)} was found but TensorFlow.js could not create a device on it`, {
      code: 'runtime.webgpu_unusable',
      suggestions: ['update the GPU driver (see docs/gpu.md)', "or use runtime.backend 'wasm' or 'cpu'"],
    })
  }
  await tf.ready()
  registerWebgpuAddN()
  trapDeviceErrors()
  return probe.adapter
}

let deviceError: string | undefined

/**
 * Dawn reports a rejected shader or command (a validation error) on the device, not to the
 * caller: tfjs would go on and read zeros. Keep the first one; takeDeviceError hands it out.
 */
function trapDeviceErrors(): void {
  onWebgpuDeviceError((message) => {
    deviceError ??= message
  })
}

/** The first error the GPU device reported since the last call, if any (and forgets it). */
export function takeDeviceError(): string | undefined {
  const e = deviceError
  deviceError = undefined
  return e
}
