import {expect} from 'chai'

import Verify from '../../src/commands/verify.js'
import {repoRoot, tinyFixture} from '../src/model/fixture-path.js'

/** Runs `rtd verify ...args` in-process; returns stdout, stderr and the exit status. */
async function runVerify(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  let stdout = ''
  let stderr = ''
  const out = process.stdout.write.bind(process.stdout)
  const err = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write
  try {
    await Verify.run(args, {root: repoRoot})
    return {code: 0, stdout, stderr}
  } catch (e) {
    const exit = (e as {oclif?: {exit?: number}}).oclif?.exit
    if (typeof exit !== 'number') throw e
    return {code: exit, stdout, stderr}
  } finally {
    process.stdout.write = out
    process.stderr.write = err
  }
}

describe('rtd verify', () => {
  it('exits 0 on the tiny fixture and prints the worst error per tensor', async () => {
    const r = await runVerify([tinyFixture, '--backend', 'wasm'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/^pass {4}gdes\.disc\.last_hidden_state {2}worst \|err\| \d\.\d\de-\d+ \(\d\.\d{3} of tolerance\) {2}atol 0\.0001 rtol 0\.0001$/m)
    expect(r.stdout).to.match(/42 passed, 0 failed, 0 missing, 0 skipped on wasm/)
  })

  it('prints the report as JSON with --json', async () => {
    const r = await runVerify([tinyFixture, '--backend', 'wasm', '--json'])
    expect(r.code).to.equal(0)
    const report = JSON.parse(r.stdout)
    expect(report.passed).to.equal(true)
    expect(report.backend).to.equal('wasm')
    expect(report.checks.find((c: {name: string}) => c.name === 'rel_att_index').status).to.equal('pass')
  })

  it('exits 1 and lists the failing tensors for a deliberately wrong model', async () => {
    const r = await runVerify([tinyFixture, '--backend', 'wasm', '--fault', 'tanh-gelu', '--json'])
    expect(r.code).to.equal(1)
    const {error} = JSON.parse(r.stdout)
    expect(error.code).to.equal('verify.failed')
    expect(error.issues.map((c: {name: string}) => c.name)).to.include('gen.last_hidden_state')
  })

  it('exits 1 with a clear message for a folder that is not a reference dump', async () => {
    const r = await runVerify([repoRoot, '--backend', 'wasm'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/verify\.fixture_incomplete.*missing .*expected\.safetensors/s)
  })
})
