import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {diffRuns, formatRunDiff} from '../../../src/report/diff-runs.js'
import {runCli} from '../../helpers/run-cli.js'
import {writeFakeRun} from './fake-runs.js'

describe('rtd diff', function () {
  this.timeout(60_000)
  let tmp: string
  let a: string
  let b: string
  let c: string

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-diff-'))
    a = writeFakeRun({parent: path.join(tmp, 'a'), name: 'tiny-gdes', sharing: 'gdes', steps: 30, evalEvery: 10}).dir
    b = writeFakeRun({parent: path.join(tmp, 'b'), name: 'tiny-es', sharing: 'es', steps: 20, evalEvery: 10, offset: 0.25, backend: 'cpu'}).dir
    c = writeFakeRun({parent: path.join(tmp, 'c'), name: 'tiny-gdes', sharing: 'gdes', steps: 30, evalEvery: 10, shardsKey: 'ffff00001111'}).dir
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('lists resolved-config, environment and data differences', () => {
    const d = diffRuns(a, b)
    expect(d.config.map((x) => x.key)).to.deep.equal(['model.embedding_sharing', 'name', 'runtime.backend', 'schedule.max_steps'])
    expect(d.config[0].values).to.deep.equal(['gdes', 'es'])
    expect(d.environment.map((x) => x.key)).to.deep.equal(['backend']) // argv differs too, but it is not a difference that matters
    expect(d.data).to.deep.equal({a: 'abc123def456', b: 'abc123def456', same: true})
    expect(diffRuns(a, c).data).to.deep.equal({a: 'abc123def456', b: 'ffff00001111', same: false})
    expect(diffRuns(a, c).config).to.deep.equal([])
  })

  it('compares metrics at the steps both runs logged', () => {
    const d = diffRuns(a, b)
    expect(d.commonSteps).to.deep.equal({train: 20, eval: 2}) // b evaluated at 10 and 20 (final); a at 10, 20, 30
    const auc = d.metrics.find((m) => m.type === 'eval' && m.metric === 'disc_auc')!
    expect(auc.step).to.equal(10)
    expect(auc.delta).to.be.closeTo(-0.25, 1e-12)
    const loss = d.metrics.find((m) => m.type === 'train' && m.metric === 'loss')!
    expect(loss).to.include({step: 20, a: 10 / 20, b: 10 / 20 + 0.25})
    expect(d.trainMaxDelta.loss).to.be.closeTo(0.25, 1e-12)
    const text = formatRunDiff(d)
    expect(text).to.include('model.embedding_sharing: gdes -> es')
    expect(text).to.include('same shards (key abc123def456)')
    expect(text).to.match(/disc_auc\s+0\.7100\s+0\.4600\s+-0\.2500/)
  })

  it('the CLI prints the diff, --json returns it, and a folder that is not a run is exit 2', async () => {
    const r = await runCli({args: ['diff', a, c, '--json']})
    expect(r.code, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout).data.same).to.equal(false)
    const bad = await runCli({args: ['diff', a, tmp]})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.include('is not a run directory')
  })
})
