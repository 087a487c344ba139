/**
 * A non-finite loss stops training (issue 5): exit 1, a message naming the step and the loss
 * terms, status failed, and the last good checkpoint left complete (and resumable/exportable).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {verifyCheckpoint} from '../../src/train/index.js'
import {runCli} from '../helpers/run-cli.js'
import {pipelineFile, readMetrics, runDirOf, tinyOverrides, writeCorpus} from './tiny-fixture.js'

describe('e2e: non-finite loss', function () {
  this.timeout(60_000)
  let tmp: string

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-nonfinite-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('stops at the step whose loss overflows, names the terms, exits 1 and keeps the last good checkpoint', async () => {
    const corpus = writeCorpus(tmp)
    const outputDir = path.join(tmp, 'runs')
    // lambda: 0 for 2 updates, then 50, then 1e39 (Infinity in float32): steps 1-3 are finite, step 4's loss is not
    const args = ['run', pipelineFile('tiny-gdes'), ...tinyOverrides({corpus, outputDir, maxSteps: 10, extra: ['schedule.checkpoint_every=1', 'loss.lambda={schedule: linear, start: 50, end: 1e39, steps: 1, warmup_steps: 2}']}), '--json']
    const r = await runCli({args, env: {RTD_CACHE: path.join(tmp, 'cache')}})
    expect(r.code, r.stderr).to.equal(1)
    const err = JSON.parse(r.stdout).error as {code: string; message: string}
    expect(err.code).to.equal('train.non_finite_loss')
    expect(err.message).to.match(/step 4\b/)
    expect(err.message).to.match(/loss=(Infinity|NaN)/)
    expect(err.message).to.match(/mlm=\d/)
    expect(err.message).to.match(/rtd=\d/)

    const runDir = runDirOf(outputDir, 'tiny-gdes')
    const status = JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8'))
    expect(status.state).to.equal('failed')
    expect(status.error.code).to.equal('train.non_finite_loss')
    expect(readMetrics(runDir).filter((m) => m.type === 'train').map((m) => [m.step, m.lambda])).to.deep.equal([[1, 0], [2, 0], [3, 50]])
    const ckpts = path.join(runDir, 'checkpoints')
    const dirs = fs.readdirSync(ckpts).filter((d) => d.startsWith('step-'))
    expect(dirs.sort()).to.deep.equal(['step-2', 'step-3'])
    expect(fs.readFileSync(path.join(ckpts, 'latest'), 'utf8').trim()).to.equal('step-3')
    expect(verifyCheckpoint({dir: path.join(ckpts, 'step-3')})).to.equal(null)

    // the good checkpoint still exports
    const ex = await runCli({args: ['export', runDir, '--output', path.join(tmp, 'export'), '--json']})
    expect(ex.code, ex.stderr).to.equal(0)
    expect(JSON.parse(ex.stdout).step).to.equal(3)
  })
})
