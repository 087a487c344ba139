import {expect} from 'chai'
import * as tf from '#tfjs'
import {GradAccumulator} from '../../../src/train/grad-accumulator.js'

describe('GradAccumulator', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  it('averages micro-batch gradients with equal weights', () => {
    const acc = new GradAccumulator()
    acc.add(new Map([['w', tf.tensor1d([1, 2])], ['b', tf.tensor1d([3])]]))
    acc.add(new Map([['w', tf.tensor1d([3, 6])], ['b', tf.tensor1d([5])]]))
    acc.add(new Map([['w', tf.tensor1d([2, 1])], ['b', tf.tensor1d([1])]]))
    expect(acc.count).to.equal(3)
    const out = acc.take()
    expect(Array.from(out.get('w')!.dataSync())).to.deep.equal([2, 3])
    expect(Array.from(out.get('b')!.dataSync())).to.deep.equal([3])
    expect(acc.count).to.equal(0)
    for (const t of out.values()) t.dispose()
  })

  it('passes a single micro-batch through unchanged', () => {
    const acc = new GradAccumulator()
    const g = tf.tensor1d([1.5, -2])
    acc.add(new Map([['w', g]]))
    const out = acc.take()
    expect(Array.from(out.get('w')!.dataSync())).to.deep.equal([1.5, -2])
    out.get('w')!.dispose()
  })

  it('keeps no tensors beyond the result it hands out', () => {
    const before = tf.memory().numTensors
    const acc = new GradAccumulator()
    for (let i = 0; i < 4; i++) acc.add(new Map([['w', tf.ones([3, 3])]]))
    const out = acc.take()
    expect(tf.memory().numTensors).to.equal(before + 1)
    out.get('w')!.dispose()
    acc.add(new Map([['w', tf.ones([2])]]))
    acc.dispose()
    expect(tf.memory().numTensors).to.equal(before)
  })
})
