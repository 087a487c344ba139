import * as tf from '#tfjs'
import {expect} from 'chai'
import {ConfigError} from '../../../src/errors.js'
import {initBackend} from '../../../src/runtime/backend.js'

describe('initBackend', () => {
  const saved = {RTD_NATIVE_ADDON: process.env['RTD_NATIVE_ADDON'], RTD_NATIVE: process.env['RTD_NATIVE']}

  beforeEach(() => {
    delete process.env['RTD_NATIVE'] // these tests point RTD_NATIVE_ADDON at a missing file instead
  })

  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  it('returns the same info for the same options and activates the backend', async () => {
    const first = await initBackend({backend: 'cpu'})
    const second = await initBackend({backend: 'cpu'})
    expect(second).to.equal(first)
    expect(first.backend).to.equal('cpu')
    expect(tf.getBackend()).to.equal('cpu')
  })

  it('switches to wasm with the training kernels registered', async () => {
    const info = await initBackend({backend: 'wasm', native: 'off'})
    expect(tf.getBackend()).to.equal('wasm')
    expect(info.kernels).to.include.members(['UnsortedSegmentSum', 'BatchMatMul'])
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).to.not.equal(undefined)
  })

  it('rejects tensorflow when tfjs-node is not installed, naming the package', async function () {
    try {
      await import('@tensorflow/tfjs-node' as string)
      this.skip() // installed here: nothing to reject
    } catch {
      // expected: not installed
    }
    const err = await initBackend({backend: 'tensorflow'}).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('runtime.tensorflow_missing')
    expect((err as Error).message).to.contain('@tensorflow/tfjs-node')
  })

  it('rejects an unknown backend name with the allowed ones', async () => {
    const err = await initBackend({backend: 'webgl' as never}).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as Error).message).to.match(/webgl.*auto, native, wasm, cpu, tensorflow/)
  })

  it('says once why native kernels are off and runs plain wasm', async () => {
    process.env['RTD_NATIVE_ADDON'] = '/nonexistent/rtd_native.node'
    const messages: string[] = []
    const info = await initBackend({backend: 'wasm', native: 'auto', log: (m) => messages.push(m)})
    await initBackend({backend: 'wasm', native: 'auto', threads: 2, log: (m) => messages.push(m)})
    expect(info.native).to.equal(false)
    expect(messages).to.have.length(1)
    expect(messages[0]).to.match(/^native kernels off: cannot load \/nonexistent/)
  })

  it('fails when native kernels are required but cannot load', async () => {
    process.env['RTD_NATIVE_ADDON'] = '/nonexistent/rtd_native.node'
    const err = await initBackend({backend: 'wasm', native: 'on'}).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('runtime.native_unavailable')
  })
})
