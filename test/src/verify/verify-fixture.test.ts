import {expect} from 'chai'
import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {readSafetensors, writeSafetensors} from '../../../src/checkpoint/safetensors.js'
import {MODEL_FAULTS} from '../../../src/model/nn.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {parseToleranceTable, verifyFixture} from '../../../src/verify/verify-fixture.js'
import {fileURLToPath} from 'node:url'

import {tinyFixture} from '../model/fixture-path.js'

const variantsFixture = path.resolve(fileURLToPath(import.meta.url), '../fixtures/deberta-variants')

describe('verify-fixture', function () {
  // a fixture run is ~10 s of CPU; on a machine shared by several jobs it can take several times that
  this.timeout(300_000)
  let tmp: string
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rtd-verify-'))
  })
  afterEach(() => {
    rmSync(tmp, {recursive: true, force: true})
  })

  /** A copy of the tiny fixture whose expected tensor `name` is changed by `edit`. */
  function editedCopy(name: string, edit: (data: Float32Array | Int32Array) => void): string {
    for (const f of readdirSync(tinyFixture)) copyFileSync(path.join(tinyFixture, f), path.join(tmp, f))
    const {tensors, metadata} = readSafetensors(path.join(tinyFixture, 'expected.safetensors'))
    edit(tensors.get(name)!.data)
    writeSafetensors(path.join(tmp, 'expected.safetensors'), tensors, metadata)
    return tmp
  }

  it('parses atol/rtol per tensor and "exact" from the README tables', () => {
    const tol = parseToleranceTable(readFileSync(path.join(tinyFixture, 'README.md'), 'utf8'))
    expect(tol.get('gdes.grad_total.E_G')).to.deep.equal({atol: 2e-5, rtol: 1e-3, exact: false})
    expect(tol.get('loss_mlm')).to.deep.equal({atol: 1e-5, rtol: 1e-5, exact: false})
    expect(tol.get('rel_att_index')).to.deep.equal({atol: 0, rtol: 0, exact: true})
    expect(tol.has('attention_mask')).to.equal(false) // inputs table has no tolerance columns
  })

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`passes on the tiny fixture on ${backend}`, async () => {
      await initBackend({backend})
      const r = await verifyFixture({dir: tinyFixture})
      const bad = r.checks.filter((c) => c.status !== 'pass')
      expect(bad, JSON.stringify(bad)).to.deep.equal([])
      expect(r.checks.length).to.be.greaterThan(40)
      expect(r.backend).to.equal(backend)
    })
  }

  it('passes on a dump with embed_proj, absolute positions, token types, separate position keys and c2p only', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await initBackend({backend})
      const r = await verifyFixture({dir: variantsFixture})
      const bad = r.checks.filter((c) => c.status !== 'pass')
      expect(bad, `${backend}: ${JSON.stringify(bad)}`).to.deep.equal([])
    }
  })

  for (const fault of MODEL_FAULTS) {
    it(`fails for a deliberately wrong model: ${fault}`, async () => {
      await initBackend({backend: 'wasm'})
      const r = await verifyFixture({dir: tinyFixture, faults: [fault]})
      expect(r.passed).to.equal(false)
      expect(r.checks.find((c) => c.name === 'gdes.disc.last_hidden_state')!.status).to.equal('fail')
    })
  }

  it('fails when an expected value at a real token is off, ignores a change at a padding position', async () => {
    await initBackend({backend: 'wasm'})
    const inputs = readSafetensors(path.join(tinyFixture, 'inputs.safetensors')).tensors
    const mask = inputs.get('attention_mask')!.data
    const pad = mask.indexOf(0)
    expect(pad).to.be.greaterThan(0)
    const padded = await verifyFixture({dir: editedCopy('gdes.disc.rtd_logits', (d) => (d[pad] = 123))})
    expect(padded.passed).to.equal(true)
    const real = await verifyFixture({dir: editedCopy('gdes.disc.rtd_logits', (d) => (d[1] += 1e-3))})
    expect(real.passed).to.equal(false)
    const check = real.checks.find((c) => c.name === 'gdes.disc.rtd_logits')!
    expect(check.worstAbs).to.be.closeTo(1e-3, 1e-4)
  })

  it('fails on a wrong integer bucket table', async () => {
    await initBackend({backend: 'wasm'})
    const r = await verifyFixture({dir: editedCopy('log_bucket', (d) => (d[0] += 1))})
    expect(r.checks.find((c) => c.name === 'log_bucket')!.status).to.equal('fail')
  })
})
