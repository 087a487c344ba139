import {expect} from 'chai'
import {learningRate, resolveWarmupSteps} from '../../../src/train/lr-schedule.js'

describe('learningRate', () => {
  it('exponential: base · gamma^epoch, constant within an epoch', () => {
    const s = {type: 'exponential', gamma: 0.9} as const
    expect(learningRate({schedule: s, step: 0, epoch: 0, totalSteps: 0, baseLr: 2e-5})).to.equal(2e-5)
    expect(learningRate({schedule: s, step: 57, epoch: 0, totalSteps: 0, baseLr: 2e-5})).to.equal(2e-5)
    expect(learningRate({schedule: s, step: 100, epoch: 1, totalSteps: 0, baseLr: 2e-5})).to.be.closeTo(1.8e-5, 1e-20)
    expect(learningRate({schedule: s, step: 400, epoch: 4, totalSteps: 0, baseLr: 2e-5})).to.be.closeTo(2e-5 * 0.6561, 1e-20)
  })

  it('exponential with warmup ramps by step/warmup first', () => {
    const s = {type: 'exponential', gamma: 0.5, warmupSteps: 4} as const
    expect(learningRate({schedule: s, step: 0, epoch: 0, totalSteps: 0, baseLr: 1})).to.equal(0)
    expect(learningRate({schedule: s, step: 1, epoch: 0, totalSteps: 0, baseLr: 1})).to.equal(0.25)
    expect(learningRate({schedule: s, step: 9, epoch: 1, totalSteps: 0, baseLr: 1})).to.equal(0.5)
  })

  it('warmup_linear: step/W during warmup, then 1 − step/T, not re-based, 0 from T on (Microsoft warmup_linear)', () => {
    const s = {type: 'warmup_linear', warmupSteps: 10} as const
    const lr = (step: number): number => learningRate({schedule: s, step, epoch: 0, totalSteps: 100, baseLr: 1e-3})
    expect(lr(0)).to.equal(0) // XAdam schedules with the count before the update
    expect(lr(5)).to.be.closeTo(5e-4, 1e-15)
    expect(lr(9)).to.be.closeTo(9e-4, 1e-15)
    expect(lr(10)).to.be.closeTo(1e-3 * 0.9, 1e-15) // step = W: decay branch, 1 − 10/100
    expect(lr(50)).to.be.closeTo(5e-4, 1e-15)
    expect(lr(99)).to.be.closeTo(1e-5, 1e-15) // the last update of the run
    expect(lr(100)).to.equal(0)
    expect(lr(150)).to.equal(0)
  })

  it('warmup_linear without warmup decays linearly from 1 at the first step', () => {
    const s = {type: 'warmup_linear', warmupSteps: 0} as const
    expect([0, 1, 2, 3].map((step) => learningRate({schedule: s, step, epoch: 0, totalSteps: 4, baseLr: 1}))).to.deep.equal([1, 0.75, 0.5, 0.25])
  })

  it('warmup_linear refuses to run without a total step count', () => {
    expect(() => learningRate({schedule: {type: 'warmup_linear', warmupSteps: 1}, step: 0, epoch: 0, totalSteps: 0, baseLr: 1})).to.throw(/total number of steps/)
  })

  it('constant, with and without warmup', () => {
    expect(learningRate({schedule: {type: 'constant'}, step: 3, epoch: 2, totalSteps: 0, baseLr: 0.1})).to.equal(0.1)
    const s = {type: 'constant', warmupSteps: 5} as const
    expect(learningRate({schedule: s, step: 2, epoch: 0, totalSteps: 0, baseLr: 0.1})).to.be.closeTo(0.04, 1e-15)
    expect(learningRate({schedule: s, step: 5, epoch: 0, totalSteps: 0, baseLr: 0.1})).to.equal(0.1)
    expect(learningRate({schedule: s, step: 40, epoch: 0, totalSteps: 0, baseLr: 0.1})).to.equal(0.1)
  })

  it('resolveWarmupSteps reads values below 1 as a proportion of the total', () => {
    expect(resolveWarmupSteps({warmup: 0.1, totalSteps: 500})).to.equal(50)
    expect(resolveWarmupSteps({warmup: 10000, totalSteps: 500})).to.equal(10000)
    expect(() => resolveWarmupSteps({warmup: -1, totalSteps: 5})).to.throw(/>= 0/)
  })
})
