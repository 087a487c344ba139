/**
 * report.html during `rtd run`: written after an evaluation line even while the training loop
 * keeps the main thread busy with microtasks only (it writes on a worker thread), at most one
 * write per interval, and not at all for a run with nothing to plot.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {runReportWriter} from '../../../src/report/run-report.js'
import {writeFakeRun} from './fake-runs.js'

describe('report.html during a run', function () {
  this.timeout(120_000)
  let tmp: string
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-run-report-'))
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const warnings: string[] = []
  const log = {info() {}, debug() {}, warn: (m: string) => warnings.push(m)}

  it('appears after update() while the main thread only yields to microtasks, as a training loop does', async () => {
    const run = writeFakeRun({parent: tmp, name: 'busy', sharing: 'gdes', steps: 10, evalEvery: 5, state: 'running'}).dir
    const file = path.join(run, 'report.html')
    const writer = runReportWriter({runDir: run, log, minIntervalMs: 0})
    writer.update()
    const deadline = Date.now() + 90_000
    let spins = 0
    // no macrotask turn in this loop: a write on the main thread could never finish here
    while (!fs.existsSync(file) && Date.now() < deadline) {
      await Promise.resolve()
      spins++
    }
    expect(fs.existsSync(file), 'report.html written during the busy loop').to.equal(true)
    expect(spins).to.be.greaterThan(0)
    await writer.flush()
    expect(fs.readFileSync(file, 'utf8')).to.include('data-plot="disc_auc"')
    expect(warnings).to.deep.equal([])
  })

  it('starts no write until minIntervalMs has passed since the last one; tick() then writes what update() scheduled', async () => {
    const run = writeFakeRun({parent: path.join(tmp, 'c'), name: 'throttled', sharing: 'gdes', steps: 4, evalEvery: 2, state: 'running'}).dir
    const file = path.join(run, 'report.html')
    let clock = 1000
    const writer = runReportWriter({runDir: run, log, minIntervalMs: 60_000, now: () => clock})
    clock += 59_999
    expect(writer.update(), 'no write inside the interval').to.equal(false)
    expect(writer.tick()).to.equal(false)
    clock += 1
    expect(writer.tick(), 'the scheduled write starts once the interval has passed').to.equal(true)
    expect(writer.tick(), 'one write per update').to.equal(false)
    const deadline = Date.now() + 90_000
    while (!fs.existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(fs.existsSync(file), 'written once the interval has passed').to.equal(true)
    await writer.flush()
    expect(warnings).to.deep.equal([])
  })

  it('flush() rewrites after new lines and waits for it; a run with nothing to plot gets no report', async () => {
    const run = writeFakeRun({parent: path.join(tmp, 'b'), name: 'grow', sharing: 'gdes', steps: 4, evalEvery: 2}).dir
    const writer = runReportWriter({runDir: run, log})
    await writer.flush()
    fs.appendFileSync(path.join(run, 'metrics.jsonl'), `${JSON.stringify({type: 'eval', step: 99, disc_auc: 0.5, new_metric: 1})}\n`)
    await writer.flush()
    expect(fs.readFileSync(path.join(run, 'report.html'), 'utf8')).to.include('data-plot="new_metric"')

    const empty = path.join(tmp, 'empty')
    fs.mkdirSync(empty)
    fs.writeFileSync(path.join(empty, 'resolved.yaml'), 'name: empty\n')
    fs.writeFileSync(path.join(empty, 'metrics.jsonl'), `${JSON.stringify({stage: 'data', cache_hit: true})}\n`)
    await runReportWriter({runDir: empty, log}).flush()
    expect(fs.existsSync(path.join(empty, 'report.html'))).to.equal(false)
    expect(warnings).to.deep.equal([])
  })
})
