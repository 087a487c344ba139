/**
 * `rtd plan` and the fit check of `rtd run` (issue 10): the plan's parts add up and follow the
 * shapes, a step that cannot fit is refused before anything is written, with alternatives that
 * do fit, and the memory estimate is within 25% of a measured native step's peak RSS.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'
import {ConfigError} from '../../../src/errors.js'
import {hasNativeBackendKernels, loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {buildPlan, checkPlanFits, planAlternatives, type PlanInputs} from '../../../src/pipeline/training-plan.js'
import {runCli} from '../../helpers/run-cli.js'
import {pipelineFile} from '../../e2e/tiny-fixture.js'

const shape = (layers: number, hidden = 256, vocab = 8000) => ({vocab, hidden, layers, heads: 4, intermediate: 4 * hidden, positionBuckets: 256})

function inputs(change: Partial<PlanInputs> = {}): PlanInputs {
  return {model: {discriminator: shape(4), generator: shape(2), sharing: 'gdes', maskRate: 0.15, summary: 'bench-small'}, backend: 'native', backendWhy: 'test', batch: 8, gradAccumulation: 1, seqLen: 128, recompute: 'alternate', ...change}
}

function nativeAvailable(): boolean {
  const loaded = loadNativeKernels()
  return loaded.ok && hasNativeBackendKernels(loaded.kernels)
}

describe('training plan', function () {
  this.timeout(300_000)

  it('adds up per part and scales with the shapes and the data', () => {
    const plan = buildPlan(inputs({data: {maxLength: 128, trainSequences: 1000, note: ''}, epochs: 3}))
    const b = plan.memory.bytes
    expect(b.weights).to.equal(b.gradients)
    expect(b.optimizer).to.equal(2 * b.weights)
    expect(plan.peakBytes).to.be.greaterThan(b.weights + b.gradients + b.optimizer + b.activations)
    expect(plan.fits).to.equal(true)
    expect(plan.stepsPerEpoch).to.equal(125) // 1000 sequences / 8
    expect(plan.totalSteps).to.equal(375)
    expect(plan.totalSeconds).to.be.closeTo(375 * plan.secondsPerStep, 1e-9)
    // twice the batch: the same weights, more activations and FLOPs; accumulation keeps activations
    const double = buildPlan(inputs({batch: 16}))
    expect(double.memory.bytes.weights).to.equal(b.weights)
    expect(double.memory.bytes.activations).to.be.greaterThan(1.8 * b.activations)
    expect(double.flopsPerStep).to.be.closeTo(2 * plan.flopsPerStep, 0.05 * plan.flopsPerStep)
    const accumulated = buildPlan(inputs({batch: 8, gradAccumulation: 2}))
    expect(accumulated.memory.bytes.activations).to.equal(b.activations)
    expect(accumulated.flopsPerStep).to.be.closeTo(double.flopsPerStep, 0.05 * double.flopsPerStep)
  })

  it('refuses a step that does not fit, with alternatives that do', () => {
    // deberta-v3-base shapes on wasm: far beyond the 4 GiB heap
    const base = {discriminator: {...shape(12, 768, 128100), heads: 12}, generator: {...shape(6, 768, 128100), heads: 12}, sharing: 'gdes' as const, maskRate: 0.15, summary: 'base'}
    const plan = buildPlan(inputs({model: base, backend: 'wasm', recompute: 'off'}))
    expect(plan.fits).to.equal(false)
    const err = (() => {
      try {
        checkPlanFits(plan)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('memory.exceeds_backend')
    expect((err as Error).message).to.match(/needs about [\d.]+ GiB but the wasm backend's 4 GiB heap/)
    const alternatives = planAlternatives(plan)
    expect(alternatives.some((a) => a.includes('native'))).to.equal(true)
    // a model that fits only in micro-batches: the suggestion names a micro-batch that fits
    const mid = {discriminator: shape(6, 512, 30000), generator: shape(3, 512, 30000), sharing: 'gdes' as const, maskRate: 0.15, summary: 'mid'}
    const tight = buildPlan(inputs({model: mid, backend: 'wasm', batch: 32, recompute: 'off'}))
    expect(tight.fits).to.equal(false)
    const micro = planAlternatives(tight).find((a) => a.startsWith('schedule.batch_size='))
    expect(micro, planAlternatives(tight).join('\n')).to.not.equal(undefined)
    const [, b, acc] = /batch_size=(\d+) schedule.grad_accumulation=(\d+)/.exec(micro!)!
    expect(Number(b) * Number(acc)).to.equal(32)
    expect(buildPlan(inputs({model: mid, backend: 'wasm', batch: Number(b), gradAccumulation: Number(acc), recompute: 'off'})).fits).to.equal(true)
  })

  it('rtd plan prints the parts; rtd run refuses a step that cannot fit before it writes anything', async () => {
    const ok = await runCli({args: ['plan', pipelineFile('tiny-gdes')]})
    expect(ok.code, ok.stderr).to.equal(0)
    for (const part of ['weights', 'gradients', 'optimizer', 'activations', 'TFLOP per step', 'steps per epoch: about', 'total: 300 steps']) expect(ok.stdout).to.contain(part)

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-plan-'))
    try {
      const huge = ['model.config.hidden_size=4096', 'model.config.intermediate_size=16384', 'model.config.num_hidden_layers=48', 'model.config.num_attention_heads=32',
        'runtime.backend=wasm', `output.dir=${path.join(tmp, 'runs')}`]
      const plan = await runCli({args: ['plan', pipelineFile('tiny-gdes'), ...huge]})
      expect(plan.code).to.equal(2)
      expect(plan.stdout).to.contain('DOES NOT FIT')
      expect(plan.stdout).to.contain('alternatives:')
      const run = await runCli({args: ['run', pipelineFile('tiny-gdes'), ...huge], env: {RTD_CACHE: path.join(tmp, 'cache')}})
      expect(run.code, run.stderr).to.equal(2)
      expect(run.stderr).to.match(/does not fit: it needs about/)
      expect(fs.readdirSync(tmp), 'no run directory, no cache').to.deep.equal([])
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })

  it('estimates a native bench-small step\'s peak RSS within 25%', async function () {
    if (!nativeAvailable()) this.skip()
    const r = await runCli({args: ['bench', '--config', 'bench-small', '--backend', 'native', '--steps', '1', '--warmup', '1', '--json']})
    expect(r.code, r.stderr).to.equal(0)
    const measured = (JSON.parse(r.stdout) as Array<{peak_rss_mb: number}>)[0]!.peak_rss_mb * 2 ** 20
    const estimate = buildPlan(inputs({recompute: undefined})).peakBytes // what auto does
    expect(estimate / measured, `estimate ${(estimate / 2 ** 20).toFixed(0)} MiB, measured ${(measured / 2 ** 20).toFixed(0)} MiB`).to.be.within(0.75, 1.25)
  })
})
