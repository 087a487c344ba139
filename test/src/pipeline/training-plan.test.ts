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
import {memoryLimit} from '../../../src/runtime/memory-estimate.js'
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

  it('counts a model copy per data-parallel worker, and holds the process to RTD_MEMORY_LIMIT', () => {
    const one = buildPlan(inputs())
    const two = buildPlan(inputs({workers: 2}))
    const four = buildPlan(inputs({workers: 4}))
    const b = one.memory.bytes
    expect(one.workers).to.equal(1)
    expect(one.processBytes).to.equal(one.peakBytes)
    // replica 0 computes its share of the rows, and keeps the whole optimizer
    expect(two.memory.bytes.activations).to.be.within(0.4 * b.activations, 0.6 * b.activations)
    expect(two.memory.bytes.optimizer).to.equal(b.optimizer)
    // each worker: its own weights, gradients and activations; shared buffers: weights + one gradient set per worker
    const w = two.memory.bytes
    expect(two.workerBytes).to.be.greaterThan(w.weights + w.gradients + w.activations)
    expect(two.sharedBytes).to.equal(2 * b.weights)
    expect(four.sharedBytes).to.equal(4 * b.weights)
    expect(four.processBytes - two.processBytes).to.be.greaterThan(2 * (four.memory.bytes.weights + four.memory.bytes.gradients))
    expect(four.processBytes).to.be.greaterThan(two.processBytes).and.greaterThan(one.processBytes)
    // a limit between one replica and four: one fits, four are refused, naming the workers and the way out
    const saved = process.env['RTD_MEMORY_LIMIT']
    process.env['RTD_MEMORY_LIMIT'] = String(Math.round((one.processBytes + four.processBytes) / 2))
    try {
      expect(buildPlan(inputs()).fits).to.equal(true)
      const refused = buildPlan(inputs({workers: 4}))
      expect(refused.fits).to.equal(false)
      expect(refused.limitWhat).to.match(/^RTD_MEMORY_LIMIT \d+$/)
      expect(() => checkPlanFits(refused)).to.throw(ConfigError, /does not fit: .*4 data-parallel replicas \(runtime\.workers\)/)
      expect(planAlternatives(refused)[0]).to.match(/^runtime\.workers=1: /)
    } finally {
      if (saved === undefined) delete process.env['RTD_MEMORY_LIMIT']
      else process.env['RTD_MEMORY_LIMIT'] = saved
    }
    expect(memoryLimit({RTD_MEMORY_LIMIT: '16G'}).bytes).to.equal(16 * 2 ** 30)
    expect(memoryLimit({RTD_MEMORY_LIMIT: '512MiB'}).bytes).to.equal(512 * 2 ** 20)
    expect(memoryLimit({RTD_MEMORY_LIMIT: '1000'}).bytes).to.equal(1000)
    expect(memoryLimit({}).bytes).to.equal(os.totalmem())
    expect(() => memoryLimit({RTD_MEMORY_LIMIT: 'lots'})).to.throw(ConfigError, /RTD_MEMORY_LIMIT 'lots' is not a size/)
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

  it('rtd plan plans every sweep variant; rtd run refuses the sweep before its first variant when one cannot fit, naming it', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-plan-sweep-'))
    try {
      const file = path.join(tmp, 'sweep.yaml')
      fs.writeFileSync(file, [
        `extends: ${JSON.stringify(pipelineFile('tiny-gdes'))}`,
        'name: plan-sweep',
        'sweep:',
        '  - {name: small}',
        '  - {name: huge, model.config.hidden_size: 4096, model.config.intermediate_size: 16384, model.config.num_hidden_layers: 48, model.config.num_attention_heads: 32}',
      ].join('\n'))
      const plan = await runCli({args: ['plan', file, 'runtime.backend=wasm']})
      expect(plan.code, plan.stderr).to.equal(2)
      expect(plan.stdout).to.match(/^variant small:\n/m).and.match(/^variant huge\S*:\n/m)
      expect(plan.stdout.split('DOES NOT FIT')).to.have.length(2) // the huge variant only
      const run = await runCli({args: ['run', file, 'runtime.backend=wasm', `output.dir=${path.join(tmp, 'runs')}`], env: {RTD_CACHE: path.join(tmp, 'cache')}})
      expect(run.code, run.stderr).to.equal(2)
      expect(run.stderr).to.match(/sweep variant huge\S*: training does not fit: it needs about/)
      expect(run.stdout).to.not.contain('variant small') // the first variant did not start
      expect(fs.readdirSync(tmp), 'no sweep directory, no cache').to.deep.equal(['sweep.yaml'])
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })

  it('rtd run refuses runtime.workers whose model copies exceed the memory, before it writes anything', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-plan-workers-'))
    try {
      // tiny-gdes: about 570 MiB for one replica, 940 MiB for four (the plan's estimate)
      const env = {RTD_CACHE: path.join(tmp, 'cache'), RTD_MEMORY_LIMIT: '700M'}
      const args = ['run', pipelineFile('tiny-gdes'), `output.dir=${path.join(tmp, 'runs')}`, 'runtime.backend=native']
      const one = await runCli({args: ['plan', ...args.slice(1)], env})
      expect(one.code, one.stdout + one.stderr).to.equal(0)
      const four = await runCli({args: [...args, 'runtime.workers=4'], env})
      expect(four.code, four.stderr).to.equal(2)
      expect(four.stderr).to.match(/does not fit: it needs about \d+ MiB but RTD_MEMORY_LIMIT 700M holds 700 MiB \(backend native, 4 data-parallel replicas \(runtime\.workers\)\)/)
      expect(four.stderr).to.contain('runtime.workers=1: one replica')
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
