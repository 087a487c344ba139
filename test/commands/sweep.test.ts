import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {repoRoot, runCli} from '../helpers/run-cli.js'

const fx = path.join(repoRoot, 'test/fixtures/pipelines')
const status = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'))

describe('sweeps through the CLI', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-cli-sweep-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('rtd validate checks every variant and reports the bad one at its sweep entry (exit 2)', async function () {
    this.timeout(120_000)
    const bad = await runCli({args: ['validate', path.join(fx, 'sweep-bad-variant.yaml')], cwd: repoRoot})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.contain('test/fixtures/pipelines/sweep-bad-variant.yaml:7:5: model.stepz: variant typo: unknown key `stepz` in model')
    expect(bad.stderr).to.contain('(1 issue)')
    const good = await runCli({args: ['validate', path.join(fx, 'sweep.yaml'), '--json'], cwd: repoRoot})
    expect(good.code, good.stderr).to.equal(0)
    const r = JSON.parse(good.stdout)
    expect(r.variants.map((v: {name: string; pipeline: {model: {steps: number}}}) => [v.name, v.pipeline.model.steps])).to.deep.equal([
      ['steps-2', 2],
      ['steps-3', 3],
    ])
  })

  it('rtd run runs each variant in its own directory, writes the comparison report, and a second run skips completed variants and continues an interrupted one', async function () {
    this.timeout(300_000) // five variant runs and three CLI starts, each a few seconds on an idle machine
    const first = await runCli({args: ['run', path.join(fx, 'sweep.yaml'), `output.dir=${tmp}`, '--json']})
    expect(first.code, first.stderr).to.equal(0)
    const r = JSON.parse(first.stdout)
    expect(path.dirname(r.sweepDir)).to.equal(tmp)
    expect(path.basename(r.sweepDir)).to.match(/^fixture-sweep-sweep-\d{8}-\d{6}$/)
    expect(r.variants.map((v: {variant: string; action: string; metrics: object}) => [v.variant, v.action, v.metrics])).to.deep.equal([
      ['steps-2', 'ran', {lines: 3, steps: 2}],
      ['steps-3', 'ran', {lines: 3, steps: 3}],
    ])
    const dirs = ['steps-2', 'steps-3'].map((v) => path.join(r.sweepDir, v))
    for (const d of dirs) expect(status(d).state).to.equal('completed')
    // each variant's resolved pipeline is the base with its override, without the sweep section
    expect(fs.readFileSync(path.join(dirs[1], 'resolved.yaml'), 'utf8')).to.contain('steps: 3').and.not.match(/^sweep:/m)
    const html = fs.readFileSync(path.join(r.sweepDir, 'report.html'), 'utf8')
    expect(r.report).to.equal(path.join(r.sweepDir, 'report.html'))
    expect(html).to.contain('rtd report: 2 runs').and.contain('steps-2').and.contain('steps-3')

    // the second variant was interrupted (as if Ctrl-C): the next run skips the first and continues the second
    const started = status(dirs[0]).started
    fs.writeFileSync(path.join(dirs[1], 'status.json'), JSON.stringify({...status(dirs[1]), state: 'interrupted', metrics: undefined}))
    const second = await runCli({args: ['run', path.join(fx, 'sweep.yaml'), `output.dir=${tmp}`]})
    expect(second.code, second.stderr).to.equal(0)
    expect(second.stdout).to.contain(`variant steps-2: already completed, skipped: ${dirs[0]}`)
    expect(second.stdout).to.contain(`variant steps-3: continuing ${dirs[1]}`)
    expect(status(dirs[0]).started).to.equal(started)
    expect(status(dirs[1]).state).to.equal('completed')
    expect(status(dirs[1]).resumed).to.have.length(1)
    expect(fs.readdirSync(tmp)).to.have.length(1) // the same sweep directory

    // a changed variant (another command line override) runs anew beside the old one
    const third = await runCli({args: ['run', path.join(fx, 'sweep.yaml'), `output.dir=${tmp}`, 'loss.lambda=3']})
    expect(third.code, third.stderr).to.equal(0)
    expect(third.stdout).to.contain(`variant steps-2: running ${dirs[0]}-1`)
    expect(fs.readdirSync(r.sweepDir).sort()).to.include.members(['steps-2', 'steps-2-1', 'steps-3', 'steps-3-1', 'report.html'])
  })
})
