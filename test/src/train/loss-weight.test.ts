import {expect} from 'chai'
import {lossWeight, lossWeights} from '../../../src/train/loss-weight.js'

describe('lossWeight', () => {
  it('returns a constant weight at every step', () => {
    expect(lossWeight({weight: 50, step: 0})).to.equal(50)
    expect(lossWeight({weight: 50, step: 12345})).to.equal(50)
  })

  it('ramps linearly from start to end over `steps` updates, then holds end', () => {
    const w = {schedule: 'linear', start: 1, end: 11, steps: 4} as const
    expect([0, 1, 2, 3, 4, 5, 100].map((step) => lossWeight({weight: w, step}))).to.deep.equal([1, 3.5, 6, 8.5, 11, 11, 11])
  })

  it('ramps down as well as up', () => {
    expect(lossWeight({weight: {schedule: 'linear', start: 10, end: 0, steps: 10}, step: 3})).to.be.closeTo(7, 1e-12)
  })

  it('rejects an unknown schedule', () => {
    expect(() => lossWeight({weight: {schedule: 'cosine' as 'linear', start: 0, end: 1, steps: 3}, step: 1})).to.throw(/unknown loss weight schedule "cosine"/)
  })

  it('gives both weights of a step', () => {
    expect(lossWeights({mlm: 1, rtd: {schedule: 'linear', start: 0, end: 50, steps: 10}, step: 2})).to.deep.equal({mlm: 1, rtd: 10})
  })
})
