/**
 * `runtime.backend: auto` starts Dawn only when a hardware adapter is plausible, and remembers
 * Dawn's answer per machine (src/runtime/webgpu-auto-probe.ts).
 */
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {autoWebgpuAdapter} from '../../../src/runtime/webgpu-auto-probe.js'
import type {WebgpuAdapter, WebgpuProbe} from '../../../src/runtime/webgpu-backend.js'
import {tinyFixture} from '../model/fixture-path.js'
import {runCli} from '../../helpers/run-cli.js'

function webgpuInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('webgpu/package.json')
    return true
  } catch {
    return false
  }
}

const software: WebgpuAdapter = {vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25', software: true, maxTensorBytes: 2 ** 27}
const hardware: WebgpuAdapter = {vendor: 'nvidia', architecture: 'ampere', device: 'RTX', description: 'NVIDIA RTX', software: false, maxTensorBytes: 2 ** 32}

describe('auto and the webgpu probe', function () {
  let tmp: string
  let icdDir: string
  let devDir: string
  let calls: number
  let answer: WebgpuProbe
  const probe = async (): Promise<WebgpuProbe> => (calls++, answer)

  before(function () {
    if (!webgpuInstalled()) {
      console.log("      skipping: the optional package 'webgpu' is not installed")
      this.skip()
    }
  })

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-webgpu-auto-'))
    icdDir = path.join(tmp, 'icd.d')
    devDir = path.join(tmp, 'dev')
    fs.mkdirSync(icdDir)
    fs.mkdirSync(devDir)
    calls = 0
    answer = {ok: true, adapter: software}
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const icd = (name: string, library: string) => fs.writeFileSync(path.join(icdDir, name), JSON.stringify({file_format_version: '1.0.0', ICD: {library_path: library, api_version: '1.3.0'}}))
  const env = () => ({VK_DRIVER_FILES: icdDir, RTD_CACHE: path.join(tmp, 'cache'), HOME: tmp})
  const auto = () => autoWebgpuAdapter({env: env(), devDir, platform: 'linux', probe})

  it('does not ask Dawn when the only Vulkan driver is lavapipe, even with a GPU device node', async () => {
    icd('lvp_icd.json', 'libvulkan_lvp.so')
    fs.mkdirSync(path.join(devDir, 'dri'))
    fs.writeFileSync(path.join(devDir, 'dri', 'renderD128'), '')
    const r = await auto()
    expect(r).to.deep.include({hardware: false, askedDawn: false})
    expect((r as {why: string}).why).to.match(/only software Vulkan drivers.*lvp_icd\.json/)
    expect(calls).to.equal(0)
  })

  it('does not ask Dawn when hardware drivers are installed but no GPU device node exists', async () => {
    icd('lvp_icd.json', 'libvulkan_lvp.so')
    icd('radeon_icd.json', '/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so')
    const r = await auto()
    expect(r).to.deep.include({hardware: false, askedDawn: false})
    expect(calls).to.equal(0)
  })

  it('asks Dawn once per driver identity and remembers a software-only answer', async () => {
    icd('lvp_icd.json', 'libvulkan_lvp.so')
    icd('radeon_icd.json', 'libvulkan_radeon.so')
    fs.mkdirSync(path.join(devDir, 'dri'))
    fs.writeFileSync(path.join(devDir, 'dri', 'renderD128'), '')
    expect(await auto()).to.deep.include({hardware: false, askedDawn: true})
    expect(calls).to.equal(1)
    const again = await auto()
    expect(again).to.deep.include({hardware: false, askedDawn: false})
    expect((again as {why: string}).why).to.match(/cached in .*webgpu-probe\.json/)
    expect(calls).to.equal(1)
    // a new driver (another manifest) is another identity: Dawn is asked again
    icd('nvidia_icd.json', 'libGLX_nvidia.so.0')
    fs.writeFileSync(path.join(devDir, 'nvidiactl'), '')
    answer = {ok: true, adapter: hardware}
    const now = await auto()
    expect(now.hardware).to.equal(true)
    expect(calls).to.equal(2)
  })

  it('takes a hardware adapter, and asks Dawn each time while it has one', async () => {
    icd('nvidia_icd.json', 'libGLX_nvidia.so.0')
    fs.writeFileSync(path.join(devDir, 'nvidia0'), '')
    answer = {ok: true, adapter: hardware}
    const r = await auto()
    expect(r.hardware).to.equal(true)
    expect(r.hardware && r.probe.adapter).to.deep.equal(hardware)
    await auto()
    expect(calls).to.equal(2)
  })

  it('asks Dawn where no cheap check applies (macOS: Metal), then remembers a refusal', async () => {
    answer = {ok: false, why: 'Dawn found no usable WebGPU adapter', suggestions: []}
    const mac = () => autoWebgpuAdapter({env: env(), devDir, platform: 'darwin', probe})
    expect(await mac()).to.deep.include({hardware: false, askedDawn: true})
    expect(await mac()).to.deep.include({hardware: false, askedDawn: false})
    expect(calls).to.equal(1)
  })

  it('rtd verify on auto with only lavapipe: no Dawn warnings on stderr, a CPU backend', async function () {
    this.timeout(120_000)
    const lvp = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/etc/vulkan/icd.d/lvp_icd.json'].find((f) => fs.existsSync(f))
    if (lvp === undefined) icd('lvp_icd.json', 'libvulkan_lvp.so')
    const r = await runCli({args: ['verify', tinyFixture], env: {VK_DRIVER_FILES: lvp ?? icdDir, VK_ICD_FILENAMES: lvp ?? icdDir, RTD_CACHE: path.join(tmp, 'cache')}})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/42 passed, 0 failed, 0 missing, 0 skipped on (native|wasm)/)
    expect(r.stderr).to.not.match(/artificially reduced|Warning:/)
    expect(fs.existsSync(path.join(tmp, 'cache', 'webgpu-probe.json')), 'Dawn was asked').to.equal(false)
  })
})
