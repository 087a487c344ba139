/**
 * Exact resume (issue 5): a run killed with SIGKILL mid-training and resumed with
 * `rtd run <pipeline> --resume <run-dir>` gives the same per-step losses as an uninterrupted
 * run of the same pipeline.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {hasNativeBackendKernels, loadNativeKernels} from '../../src/runtime/native/load-native.js'
import {finished, runCli, spawnCli} from '../helpers/run-cli.js'
import {pipelineFile, readMetrics, runDirOf, tensorsOf, trainLosses, tinyOverrides, writeCorpus} from './tiny-fixture.js'

const STEPS = 20
// the native backend when the addon is built (issue 10: exact resume holds there too), else what auto picks
const loaded = loadNativeKernels()
const BACKEND = loaded.ok && hasNativeBackendKernels(loaded.kernels) ? 'native' : 'auto'

describe('e2e: resume after SIGKILL', function () {
  this.timeout(240_000) // two tiny runs and a resume: room for a loaded machine (100 s measured at load average ~20)
  let tmp: string

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-resume-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('continues from the last checkpoint and reproduces every step loss of an uninterrupted run', async () => {
    const corpus = writeCorpus(tmp)
    const env = {RTD_CACHE: path.join(tmp, 'cache')}
    const overrides = (outputDir: string): string[] => tinyOverrides({corpus, outputDir, maxSteps: STEPS, extra: ['schedule.checkpoint_every=1', 'schedule.eval_every=0', `runtime.backend=${BACKEND}`]})

    const fullOut = path.join(tmp, 'full')
    const full = await runCli({args: ['run', pipelineFile('tiny-gdes'), ...overrides(fullOut)], env})
    expect(full.code, full.stderr).to.equal(0)
    const want = trainLosses(runDirOf(fullOut, 'tiny-gdes'))
    expect([...want.keys()]).to.deep.equal(Array.from({length: STEPS}, (_, i) => i + 1))

    // kill -9 a few steps in (watching metrics.jsonl), then resume
    const killedOut = path.join(tmp, 'killed')
    const child = spawnCli({args: ['run', pipelineFile('tiny-gdes'), ...overrides(killedOut)], env})
    const done = finished(child)
    let killedAt = -1
    for (let waited = 0; waited < 60_000 && child.exitCode === null; waited += 20) {
      await new Promise((r) => setTimeout(r, 20))
      if (!fs.existsSync(killedOut) || fs.readdirSync(killedOut).length === 0) continue
      const steps = readMetrics(runDirOf(killedOut, 'tiny-gdes')).filter((m) => m.type === 'train').length
      if (steps >= 6) {
        child.kill('SIGKILL')
        killedAt = steps
        break
      }
    }
    const killed = await done
    expect(killedAt, `the run ended before it could be killed: ${killed.stderr}`).to.be.greaterThan(0)
    expect(killed.code).to.equal(null) // died of the signal
    const runDir = runDirOf(killedOut, 'tiny-gdes')
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')).state).to.equal('running') // as the killed process left it
    const stepsBefore = trainLosses(runDir).size
    expect(stepsBefore).to.be.lessThan(STEPS)

    const resumed = await runCli({args: ['run', pipelineFile('tiny-gdes'), ...overrides(killedOut), '--resume', runDir], env})
    expect(resumed.code, resumed.stderr).to.equal(0)
    expect(fs.readFileSync(path.join(runDir, 'run.log'), 'utf8')).to.match(/resuming from .*step-\d+ \(step \d+/)
    const status = JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8'))
    expect(status.state).to.equal('completed')
    expect(status.resumed).to.have.length(1)

    const got = trainLosses(runDir)
    expect([...got.keys()].sort((a, b) => a - b)).to.deep.equal([...want.keys()])
    for (const [step, loss] of want) expect(got.get(step)!, `loss at step ${step}`).to.be.closeTo(loss, 1e-6 * Math.abs(loss))
    // and the final weights agree too
    const a = tensorsOf(path.join(runDirOf(fullOut, 'tiny-gdes'), 'checkpoints', `step-${STEPS}`, 'model.safetensors'))
    const b = tensorsOf(path.join(runDir, 'checkpoints', `step-${STEPS}`, 'model.safetensors'))
    const name = 'discriminator/deberta.embeddings.word_embeddings._weight'
    let maxDiff = 0
    for (let i = 0; i < a.get(name)!.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.get(name)!.data[i] - b.get(name)!.data[i]))
    expect(maxDiff).to.be.at.most(1e-6)
  })
})
