import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as tf from '#tfjs'
import {Interrupted, RuntimeFailure} from '../../../src/errors.js'
import {checkpointsDir, loadLatestCheckpoint} from '../../../src/train/checkpoint-store.js'
import {train, type TrainOptions} from '../../../src/train/trainer.js'
import {fakeCtx, stepLosses, ToyData, ToyModel, type ToyBatch} from './fixtures/toy.js'

const here = dirname(fileURLToPath(import.meta.url))

/** The settings the SIGKILL child uses too (fixtures/train-toy.ts). */
function options(model: ToyModel, runDir: string, ctx = fakeCtx(runDir), over: Partial<TrainOptions<ToyBatch>> = {}): TrainOptions<ToyBatch> {
  return {
    model,
    data: new ToyData({batches: 5, batchSize: 8}),
    ctx,
    maxSteps: 8,
    gradAccumulation: 2,
    optimizer: {lr: 0.05, weightDecay: 0.01},
    lrSchedule: {type: 'exponential', gamma: 0.9},
    loss: {mlm: 1, rtd: {schedule: 'linear', start: 0.5, end: 2, steps: 10}},
    keep: 2,
    ...over,
  }
}

const values = (vars: Map<string, tf.Variable>): number[][] => [...vars.values()].map((v) => Array.from(v.dataSync()))

describe('train', () => {
  let runDir: string
  let runDir2: string
  before(async () => {
    await tf.setBackend('cpu')
  })
  beforeEach(() => {
    runDir = mkdtempSync(join(tmpdir(), 'rtd-train-'))
    runDir2 = mkdtempSync(join(tmpdir(), 'rtd-train-'))
  })
  afterEach(() => {
    rmSync(runDir, {recursive: true, force: true})
    rmSync(runDir2, {recursive: true, force: true})
  })

  it('decreases the loss and writes one metrics line per step', async () => {
    const model = new ToyModel()
    const ctx = fakeCtx(runDir)
    const res = await train(options(model, runDir, ctx, {maxSteps: 40, gradAccumulation: 1, lrSchedule: {type: 'constant'}, loss: {mlm: 1, rtd: 1}}))
    const train_ = ctx.records.filter((r) => r.type === 'train')
    expect(train_.map((r) => r.step)).to.deep.equal(Array.from({length: 40}, (_, i) => i + 1))
    const first = train_[0]
    expect(first).to.include.keys('step', 'epoch', 'loss', 'loss_mlm', 'loss_rtd', 'lambda', 'lr', 'grad_norm', 'tokens_per_s')
    expect(first.loss).to.be.closeTo((first.loss_mlm as number) + (first.loss_rtd as number), 1e-5)
    const mean = (rs: typeof train_): number => rs.reduce((s, r) => s + (r.loss as number), 0) / rs.length
    expect(mean(train_.slice(-5))).to.be.lessThan(0.5 * mean(train_.slice(0, 5)))
    expect(res.step).to.equal(40)
    expect(res.epoch).to.equal(7) // 5 batches per epoch: 40 steps end in the 8th epoch (0-based 7)
    expect(train_[39].epoch).to.equal(8)
    model.dispose()
  })

  it('applies the LR schedule per epoch, the lambda ramp per step, and accumulates k micro-batches per step', async () => {
    const model = new ToyModel()
    const ctx = fakeCtx(runDir)
    const res = await train(options(model, runDir, ctx, {maxSteps: undefined, epochs: 2}))
    const rs = ctx.records.filter((r) => r.type === 'train')
    // 5 micro-batches, k = 2: steps of 2, 2, 1 micro-batches per epoch
    expect(rs.map((r) => r.epoch)).to.deep.equal([1, 1, 1, 2, 2, 2])
    expect(rs.map((r) => r.tokens_per_s as number > 0)).to.deep.equal([true, true, true, true, true, true])
    expect(rs.map((r) => r.lr)).to.deep.equal([0.05, 0.05, 0.05, 0.05 * 0.9, 0.05 * 0.9, 0.05 * 0.9])
    expect(rs.map((r) => r.lambda)).to.deep.equal([0.5, 0.65, 0.8, 0.95, 1.1, 1.25].map((x, i) => 0.5 + (1.5 * i) / 10))
    expect(res.step).to.equal(6)
    expect(res.epoch).to.equal(2)
    expect(loadLatestCheckpoint({runDir})!.step).to.equal(6) // checkpoint at the end
    model.dispose()
  })

  it('derives the total steps of warmup_linear from the epoch length, and reports progress per epoch', async () => {
    const model = new ToyModel()
    const ctx = fakeCtx(runDir)
    const bars: {label: string; total?: number; updates: Record<string, string | number>[]}[] = []
    ctx.progress = ({label, total}) => {
      const bar = {label, total, updates: [] as Record<string, string | number>[]}
      bars.push(bar)
      return {update: (_done, fields) => void bar.updates.push(fields ?? {}), stop() {}}
    }
    await train(options(model, runDir, ctx, {maxSteps: undefined, epochs: 2, lrSchedule: {type: 'warmup_linear', warmupSteps: 2}}))
    const lrs = ctx.records.filter((r) => r.type === 'train').map((r) => r.lr as number)
    const expected = [0, 0.5, 1 - 2 / 6, 1 - 3 / 6, 1 - 4 / 6, 1 - 5 / 6].map((f) => 0.05 * f)
    lrs.forEach((lr, i) => expect(lr).to.be.closeTo(expected[i], 1e-12))
    expect(bars.map((b) => [b.label, b.total, b.updates.length])).to.deep.equal([['epoch 1/2', 3, 3], ['epoch 2/2', 3, 3]])
    expect(bars[0].updates[0]).to.include.keys('step', 'loss', 'mlm', 'rtd', 'lambda', 'lr', 'tok/s', 'eta')
    model.dispose()
  })

  it('joint and decoupled orders update the generator alike and the discriminator differently', async () => {
    const joint = new ToyModel()
    const dec = new ToyModel()
    // no clipping: joint clips by the norm over both groups, which would scale the generator differently
    const opts = {maxSteps: 1, gradAccumulation: 1, maxGradNorm: 0}
    await train(options(joint, runDir, undefined, {...opts, order: 'joint'}))
    const ctx = fakeCtx(runDir2)
    await train(options(dec, runDir2, ctx, {...opts, order: 'decoupled'}))
    // the RTD loss never reaches the generator, so its update is the same in both orders
    expect(values(dec.gen)).to.deep.equal(values(joint.gen))
    // decoupled: the discriminator phase reads the already-updated generator
    expect(Array.from(dec.lastGenSeenByDisc!)).to.deep.equal(Array.from(dec.gen.get('gen.dense.weight')!.dataSync()))
    expect(Array.from(joint.lastGenSeenByDisc!)).to.not.deep.equal(Array.from(joint.gen.get('gen.dense.weight')!.dataSync()))
    const d1 = values(dec.disc)
    const d0 = values(joint.disc)
    expect(d1[1]).to.not.deep.equal(d0[1]) // disc.dense.weight
    const r = ctx.records.find((x) => x.type === 'train')!
    expect(r).to.include.keys('grad_norm_generator', 'grad_norm_discriminator', 'loss_mlm', 'loss_rtd')
    expect(r.loss).to.be.closeTo((r.loss_mlm as number) + 0.5 * (r.loss_rtd as number), 1e-5)
    joint.dispose()
    dec.dispose()
  })

  for (const order of ['joint', 'decoupled'] as const) {
    it(`${order}: stops on abort with a checkpoint, and resuming reproduces the uninterrupted losses exactly`, async () => {
      const a = new ToyModel()
      const ctxA = fakeCtx(runDir)
      await train(options(a, runDir, ctxA, {order}))
      const full = stepLosses(ctxA.records)

      const b = new ToyModel()
      const ctxB = fakeCtx(runDir2, (r) => {
        if (r.type === 'train' && r.step === 3) ctxB.controller.abort()
      })
      let err: unknown
      await train(options(b, runDir2, ctxB, {order})).catch((e) => (err = e))
      expect(err).to.be.instanceOf(Interrupted)
      expect(loadLatestCheckpoint({runDir: runDir2})!.step).to.equal(3)
      b.dispose()

      // a differently initialised model: everything must come from the checkpoint
      const c = new ToyModel(1, 77)
      const ctxC = fakeCtx(runDir2)
      const res = await train(options(c, runDir2, ctxC, {order}))
      expect(res.resumedFrom).to.equal(3)
      const resumed = stepLosses(ctxC.records)
      expect([...resumed.keys()]).to.deep.equal([4, 5, 6, 7, 8])
      for (const [step, l] of resumed) expect(l, `step ${step}`).to.deep.equal(full.get(step))
      for (const [step, l] of stepLosses(ctxB.records)) expect(l, `step ${step}`).to.deep.equal(full.get(step))
      expect(values(c.disc)).to.deep.equal(values(a.disc))
      a.dispose()
      c.dispose()
    })
  }

  it('resumes after SIGKILL mid-training with the same per-step losses as an uninterrupted run', async function () {
    this.timeout(60000)
    const a = new ToyModel()
    const ctxA = fakeCtx(runDir)
    await train(options(a, runDir, ctxA, {maxSteps: 12, checkpointEvery: 1}))
    const full = stepLosses(ctxA.records)
    a.dispose()

    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'train-toy.ts'), runDir2, '12', '40', 'joint'], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)))
    // wait for a few checkpoints, then kill without warning
    const latest = join(checkpointsDir(runDir2), 'latest')
    const deadline = Date.now() + 40000
    while (Date.now() < deadline && child.exitCode === null) {
      if (existsSync(latest) && Number(readFileSync(latest, 'utf8').trim().slice(5)) >= 4) break
      await new Promise((r) => setTimeout(r, 10))
    }
    child.kill('SIGKILL')
    expect(await exited, stderr).to.equal('SIGKILL')
    const killedAt = loadLatestCheckpoint({runDir: runDir2})!.step
    expect(killedAt).to.be.within(4, 11)
    const childLosses = readFileSync(join(runDir2, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l) as Record<string, unknown>)
    for (const [step, l] of stepLosses(childLosses)) expect(l, `child step ${step}`).to.deep.equal(full.get(step))

    const c = new ToyModel(1, 5)
    const ctxC = fakeCtx(runDir2)
    const res = await train(options(c, runDir2, ctxC, {maxSteps: 12, checkpointEvery: 1}))
    expect(res.resumedFrom).to.equal(killedAt)
    const resumed = stepLosses(ctxC.records)
    expect(resumed.size).to.equal(12 - killedAt)
    for (const [step, l] of resumed) expect(l, `step ${step}`).to.deep.equal(full.get(step))
    expect(readdirSync(checkpointsDir(runDir2)).filter((n) => n.includes('.tmp-'))).to.deep.equal([])
    c.dispose()
  })

  it('stops on a non-finite loss naming the step and the terms, leaving the last good checkpoint', async () => {
    const m = new ToyModel()
    m.nanAtStep = 5 // the 6th update
    const ctx = fakeCtx(runDir)
    let err: unknown
    await train(options(m, runDir, ctx, {checkpointEvery: 2})).catch((e) => (err = e))
    expect(err).to.be.instanceOf(RuntimeFailure)
    expect((err as RuntimeFailure).code).to.equal('train.non_finite_loss')
    expect((err as Error).message).to.match(/non-finite loss at step 6 \(loss=NaN, mlm=NaN, rtd=NaN\)/)
    const c = loadLatestCheckpoint({runDir})!
    expect(c.step).to.equal(4)
    const w = c.readTensors('model.safetensors')
    for (const t of w.values()) expect(Array.from(t.data).every(Number.isFinite)).to.equal(true)
    // the failed update was not applied: weights are those after step 5
    expect(stepLosses(ctx.records).size).to.equal(5)
    for (const v of [...m.gen.values(), ...m.disc.values()]) expect(Array.from(v.dataSync()).every(Number.isFinite)).to.equal(true)
    m.dispose()
  })

  it('never writes a checkpoint holding non-finite weights, and leaves no temp dir behind', async () => {
    const m = new ToyModel()
    await train(options(m, runDir, undefined, {maxSteps: 1}))
    m.disc.get('disc.dense.bias')!.assign(tf.tensor1d([NaN]))
    const ctx = fakeCtx(runDir)
    ctx.controller.abort() // Ctrl-C before the next step: the trainer tries to save
    let err: unknown
    // resume: false, or the good weights of step-1 would be loaded over the NaN
    await train(options(m, runDir, ctx, {maxSteps: 2, resume: false})).catch((e) => (err = e))
    expect((err as RuntimeFailure).code).to.equal('checkpoint.non_finite')
    expect((err as Error).message).to.match(/discriminator\/disc.dense.bias has a non-finite value/)
    expect(loadLatestCheckpoint({runDir})!.step).to.equal(1)
    expect(readdirSync(checkpointsDir(runDir)).sort()).to.deep.equal(['latest', 'step-1'])
    m.dispose()
  })

  it('evaluates at its cadence and at the end, and writes eval lines', async () => {
    const m = new ToyModel()
    const ctx = fakeCtx(runDir)
    const calls: {step: number; final: boolean}[] = []
    const res = await train(options(m, runDir, ctx, {maxSteps: 5, evalEvery: 2, evaluate: async (o) => (calls.push(o), {disc_f1: o.step / 10})}))
    expect(calls).to.deep.equal([{step: 2, final: false}, {step: 4, final: false}, {step: 5, final: true}])
    expect(res.evalMetrics).to.deep.equal({disc_f1: 0.5})
    expect(ctx.records.filter((r) => r.type === 'eval').map((r) => r.disc_f1)).to.deep.equal([0.2, 0.4, 0.5])
    m.dispose()
  })

  it('frees the AdamW moments after the final checkpoint, before the final evaluation (and the export after it)', async () => {
    const m = new ToyModel()
    const ctx = fakeCtx(runDir)
    const live: Record<string, number> = {}
    await train(options(m, runDir, ctx, {maxSteps: 4, evalEvery: 2, evaluate: async (o) => ((live[String(o.final)] = tf.memory().numTensors), {disc_f1: 0})}))
    const parameters = m.parameterGroups().reduce((n, g) => n + g.variables.size, 0)
    expect(parameters).to.be.greaterThan(0)
    expect(live['false']! - live['true']!, 'm and v of every parameter').to.equal(2 * parameters)
    expect(readdirSync(join(runDir, 'checkpoints'))).to.include('step-4') // saved before they were freed
    m.dispose()
  })

  it('leaves the final evaluation to a later stage with evaluateAtEnd: false', async () => {
    const m = new ToyModel()
    const ctx = fakeCtx(runDir)
    const calls: {step: number; final: boolean}[] = []
    const res = await train(options(m, runDir, ctx, {maxSteps: 5, evalEvery: 2, evaluateAtEnd: false, evaluate: async (o) => (calls.push(o), {disc_f1: o.step / 10})}))
    expect(calls).to.deep.equal([{step: 2, final: false}, {step: 4, final: false}])
    expect(res.evalMetrics).to.equal(undefined)
    expect(ctx.records.filter((r) => r.type === 'eval').map((r) => r.step)).to.deep.equal([2, 4])
    m.dispose()
  })

  it('does not leak tensors over steps', async () => {
    const m = new ToyModel()
    const counts: number[] = []
    const ctx = fakeCtx(runDir, (r) => {
      if (r.type === 'train') counts.push(tf.memory().numTensors)
    })
    const before = tf.memory().numTensors
    await train(options(m, runDir, ctx, {maxSteps: 6, checkpointEvery: 2}))
    expect(new Set(counts.slice(1)).size).to.equal(1)
    expect(tf.memory().numTensors).to.equal(before)
    m.dispose()
  })

  it('refuses a resume with a different training order', async () => {
    const m = new ToyModel()
    await train(options(m, runDir, undefined, {maxSteps: 1}))
    let err: unknown
    await train(options(m, runDir, undefined, {maxSteps: 2, order: 'decoupled'})).catch((e) => (err = e))
    expect((err as Error).message).to.match(/written with training order joint, this run uses decoupled/)
    m.dispose()
  })
})
