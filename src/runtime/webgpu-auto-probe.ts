/**
 * Whether `runtime.backend: auto` should start Dawn at all. Starting it costs ~0.3-2 s and, on
 * Mesa's lavapipe, two "artificially reduced" warnings on stderr, on every run and in every data
 * parallel worker, only to learn that the adapter is a software one, which auto does not take.
 * So auto asks Dawn only when a hardware adapter is plausible, and remembers Dawn's answer:
 *
 * 1. the optional `webgpu` package must resolve (no import: that loads dawn.node);
 * 2. on Linux, some Vulkan driver manifest (ICD) must name a hardware driver (not lavapipe or
 *    SwiftShader), and the kernel must expose a GPU device node (/dev/dri/*, /dev/nvidia*,
 *    /dev/dxg on WSL, /dev/mali*, /dev/kgsl*): without one no Vulkan driver can reach hardware;
 * 3. Dawn's last answer is cached per machine in the rtd cache dir (RTD_CACHE or ~/.cache/rtd,
 *    file webgpu-probe.json), keyed by the `webgpu` package version and the driver identity
 *    (host, OS release, ICD manifests with size and mtime, device nodes, VK_* variables): a
 *    cached "no hardware adapter" skips Dawn until one of those changes.
 *
 * `runtime.backend: webgpu` bypasses all of this and always asks Dawn.
 */
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

import {probeWebgpu, type WebgpuProbe} from './webgpu-backend.js'

/** What auto concluded: `probe` is set only when Dawn was (or had to be) asked. */
export type AutoWebgpuAnswer = {hardware: true; probe: WebgpuProbe & {ok: true}} | {hardware: false; why: string; askedDawn: boolean}

export interface AutoWebgpuOptions {
  /** Environment (tests). Default process.env. */
  env?: NodeJS.ProcessEnv
  /** Where device nodes live (tests). Default /dev. */
  devDir?: string
  /** Platform (tests). Default process.platform. */
  platform?: NodeJS.Platform
  /** Asks Dawn (tests). Default probeWebgpu. */
  probe?: () => Promise<WebgpuProbe>
}

const CACHE_FILE = 'webgpu-probe.json'
const SOFTWARE_DRIVER = /lvp|lavapipe|swiftshader/i
const GPU_DEVICE_NODE = /^(nvidia|dxg$|mali|kgsl)/

interface CachedAnswer {
  key: string
  hardware: boolean
  why: string
}

/** Decides, cheaply where it can, whether auto has a hardware WebGPU adapter to take. */
export async function autoWebgpuAdapter(opts: AutoWebgpuOptions = {}): Promise<AutoWebgpuAnswer> {
  const env = opts.env ?? process.env
  const platform = opts.platform ?? process.platform
  const version = webgpuPackageVersion()
  if (version === undefined) return {hardware: false, why: "the optional package 'webgpu' is not installed", askedDawn: false}
  let identity: unknown = []
  if (platform === 'linux') {
    const drivers = vulkanDrivers(env)
    const hardwareDrivers = drivers.filter((d) => !SOFTWARE_DRIVER.test(d.library))
    if (hardwareDrivers.length === 0) {
      const names = drivers.map((d) => path.basename(d.file)).join(', ')
      return {hardware: false, why: drivers.length === 0 ? 'no Vulkan driver is installed' : `only software Vulkan drivers are installed (${names})`, askedDawn: false}
    }
    const nodes = gpuDeviceNodes(opts.devDir ?? '/dev')
    if (nodes.length === 0) return {hardware: false, why: 'no GPU device node (/dev/dri, /dev/nvidia*): the Vulkan drivers have no hardware to drive', askedDawn: false}
    identity = [drivers, nodes]
  }
  const vkEnv = Object.entries(env).filter(([k]) => k.startsWith('VK_')).sort()
  const key = createHash('sha256').update(JSON.stringify([version, os.hostname(), platform, os.arch(), os.release(), identity, vkEnv])).digest('hex')
  const cacheFile = path.join(env['RTD_CACHE'] || path.join(os.homedir(), '.cache', 'rtd'), CACHE_FILE)
  const cached = readCached(cacheFile)
  if (cached?.key === key && !cached.hardware) return {hardware: false, why: `${cached.why} (Dawn's answer cached in ${cacheFile})`, askedDawn: false}
  const probe = await (opts.probe ?? probeWebgpu)()
  const answer: AutoWebgpuAnswer = probe.ok && !probe.adapter.software ? {hardware: true, probe} : {hardware: false, why: probe.ok ? 'Dawn found only a software adapter' : probe.why, askedDawn: true}
  writeCached(cacheFile, {key, hardware: answer.hardware, why: answer.hardware ? 'hardware adapter' : answer.why})
  return answer
}

function webgpuPackageVersion(): string | undefined {
  try {
    const name = 'webgpu' // through a variable: an optional package
    return (createRequire(import.meta.url)(`${name}/package.json`) as {version: string}).version
  } catch {
    return undefined
  }
}

interface VulkanDriver {
  file: string
  library: string
  size: number
  mtimeMs: number
}

/** The ICD manifests the Vulkan loader would read, in its search order (VK_DRIVER_FILES/VK_ICD_FILENAMES replace the search). */
function vulkanDrivers(env: NodeJS.ProcessEnv): VulkanDriver[] {
  const list = (v: string | undefined) => (v ?? '').split(':').filter((s) => s !== '')
  const home = env['HOME'] ?? os.homedir()
  const explicit = list(env['VK_DRIVER_FILES'] ?? env['VK_ICD_FILENAMES'])
  const searched = explicit.length > 0 ? explicit : [
    ...[env['XDG_CONFIG_HOME'] || path.join(home, '.config'), ...list(env['XDG_CONFIG_DIRS'] || '/etc/xdg'), '/etc', '/usr/local/etc'].map((d) => path.join(d, 'vulkan', 'icd.d')),
    ...[env['XDG_DATA_HOME'] || path.join(home, '.local', 'share'), ...list(env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share')].map((d) => path.join(d, 'vulkan', 'icd.d')),
  ]
  const files: string[] = []
  for (const entry of [...searched, ...list(env['VK_ADD_DRIVER_FILES'])]) {
    let stat: fs.Stats
    try {
      stat = fs.statSync(entry)
    } catch {
      continue
    }
    if (stat.isDirectory()) for (const f of fs.readdirSync(entry).sort()) if (f.endsWith('.json')) files.push(path.join(entry, f))
    if (stat.isFile()) files.push(entry)
  }
  const drivers: VulkanDriver[] = []
  for (const file of new Set(files)) {
    try {
      const stat = fs.statSync(file)
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as {ICD?: {library_path?: unknown}}
      const library = manifest.ICD?.library_path
      if (typeof library === 'string') drivers.push({file, library, size: stat.size, mtimeMs: stat.mtimeMs})
    } catch {
      // an unreadable manifest is one the loader skips too
    }
  }
  return drivers
}

function gpuDeviceNodes(devDir: string): string[] {
  const read = (d: string) => {
    try {
      return fs.readdirSync(d)
    } catch {
      return []
    }
  }
  return [...read(path.join(devDir, 'dri')).map((n) => `dri/${n}`), ...read(devDir).filter((n) => GPU_DEVICE_NODE.test(n))].sort()
}

function readCached(file: string): CachedAnswer | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CachedAnswer>
    return typeof v.key === 'string' && typeof v.hardware === 'boolean' && typeof v.why === 'string' ? (v as CachedAnswer) : undefined
  } catch {
    return undefined
  }
}

/** Best effort: a cache that cannot be written only means Dawn is asked again next time. */
function writeCached(file: string, answer: CachedAnswer): void {
  try {
    fs.mkdirSync(path.dirname(file), {recursive: true})
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(answer))
    fs.renameSync(tmp, file)
  } catch {
    // read-only home, full disk: nothing lost
  }
}
