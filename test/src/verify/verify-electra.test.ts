import {expect} from 'chai'
import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {readSafetensors, writeSafetensors} from '../../../src/checkpoint/safetensors.js'
import {RuntimeFailure} from '../../../src/errors.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {fixtureArchitecture, verifyFixture} from '../../../src/verify/verify-fixture.js'

import {electraTinyFixture as electraFixture} from '../model/fixture-path.js'

describe('verify-fixture: electra-tiny', function () {
  // each run is a few seconds of CPU; more when the machine is shared
  this.timeout(300_000)
  let tmp: string
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rtd-verify-electra-'))
  })
  afterEach(() => {
    rmSync(tmp, {recursive: true, force: true})
  })

  function copyFixture(): string {
    for (const f of readdirSync(electraFixture)) copyFileSync(path.join(electraFixture, f), path.join(tmp, f))
    return tmp
  }

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`passes every tensor on ${backend}: forward, losses, GDES and ES gradients, exactly-zero RTD gradient into E_G/P_G/T_G`, async () => {
      await initBackend({backend})
      const r = await verifyFixture({dir: electraFixture})
      const bad = r.checks.filter((c) => c.status !== 'pass')
      expect(bad, JSON.stringify(bad)).to.deep.equal([])
      expect(r.backend).to.equal(backend)
      const names = r.checks.map((c) => c.name)
      for (const n of ['gdes.disc.embeddings_ln', 'es.disc.embeddings', 'gen.mlm_logits', 'gdes.grad_total.T_delta', 'es.grad_rtd.P_G', 'inputs.rtd_labels']) expect(names).to.include(n)
      for (const t of ['E', 'P', 'T']) {
        const zero = r.checks.find((c) => c.name === `gdes.grad_rtd.${t}_G`)!
        expect(zero.worstAbs, `gdes.grad_rtd.${t}_G`).to.equal(0)
      }
      expect(r.checks.length).to.equal(66)
    })
  }

  it('fails for a tanh GELU', async () => {
    await initBackend({backend: 'wasm'})
    const r = await verifyFixture({dir: electraFixture, faults: ['tanh-gelu']})
    expect(r.passed).to.equal(false)
    expect(r.checks.find((c) => c.name === 'gdes.disc.last_hidden_state')!.status).to.equal('fail')
  })

  it('fails for a discriminator that forgets the position delta (zeroed `_weight` in the checkpoint)', async () => {
    await initBackend({backend: 'wasm'})
    const dir = copyFixture()
    const {tensors, metadata} = readSafetensors(path.join(electraFixture, 'model.safetensors'))
    tensors.get('electra.embeddings.position_embeddings._weight')!.data.fill(0)
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors, metadata)
    const r = await verifyFixture({dir})
    expect(r.passed).to.equal(false)
    const status = (n: string) => r.checks.find((c) => c.name === n)!.status
    expect(status('gdes.disc.embeddings_ln')).to.equal('fail')
    expect(status('gen.mlm_logits')).to.equal('pass') // the generator never reads a delta
    expect(status('es.disc.embeddings_ln')).to.equal('pass') // ES reads P_G itself
  })

  it('picks the architecture plugin from rtd.json, else by config.json model_type; rejects an unknown one', async () => {
    const config = JSON.parse(readFileSync(path.join(electraFixture, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(fixtureArchitecture({rtd: {architecture: 'electra'}, config: {}, where: 'x'}).name).to.equal('electra')
    expect(fixtureArchitecture({rtd: {}, config, where: 'x'}).name).to.equal('electra')
    expect(fixtureArchitecture({rtd: {}, config: {model_type: 'deberta-v2'}, where: 'x'}).name).to.equal('deberta-v3')
    expect(() => fixtureArchitecture({rtd: {}, config: {model_type: 'bert'}, where: 'x'})).to.throw(RuntimeFailure, /model_type "bert" is read by no architecture/)
    // an architecture only a registry with an external plugin knows
    const registry = new PluginRegistry()
    registry.register({plugin: {...registry.architecture('electra'), name: 'my-electra', modelTypes: ['my-electra']}, source: 'test'})
    expect(fixtureArchitecture({rtd: {}, config: {model_type: 'my-electra'}, where: 'x', registry}).name).to.equal('my-electra')
    expect(() => fixtureArchitecture({rtd: {architecture: 'bert'}, config, where: 'x'})).to.throw(RuntimeFailure, /architecture "bert"/)
    expect(() => fixtureArchitecture({rtd: {architecture: 'electra'}, config: {model_type: 'deberta-v2'}, where: 'x'})).to.throw(RuntimeFailure, /disagree|but config.json has/)
    const dir = copyFixture()
    writeFileSync(path.join(dir, 'rtd.json'), JSON.stringify({architecture: 'deberta-v3'}))
    const error = await verifyFixture({dir}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).to.be.instanceOf(RuntimeFailure)
    expect((error as Error).message).to.match(/architecture "deberta-v3" but config.json has model_type "electra"/)
  })
})
