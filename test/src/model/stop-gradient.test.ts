import {expect} from 'chai'
import * as tf from '#tfjs'

import {stopGradient, withoutGradient} from '../../../src/model/stop-gradient.js'

describe('stop-gradient', () => {
  it('is the identity forward', () => {
    const x = tf.tensor1d([1, -2, 3])
    expect([...stopGradient(x).dataSync()]).to.deep.equal([1, -2, 3])
  })

  it('passes no gradient: d/dx sum(sg(x)·x) = x, not 2x', () => {
    const x = tf.variable(tf.tensor1d([1, -2, 3]))
    const {value, grads} = tf.variableGrads(() => tf.sum(tf.mul(stopGradient(x), x)) as tf.Scalar, [x])
    expect([...grads[x.name].dataSync()]).to.deep.equal([1, -2, 3])
    value.dispose()
    tf.dispose(grads)
    x.dispose()
  })

  it('leaves a variable read only through it with no gradient at all (exactly zero)', () => {
    const e = tf.variable(tf.tensor2d([[1, 2], [3, 4]]))
    const d = tf.variable(tf.zeros([2, 2]))
    const ids = tf.tensor1d([1, 1, 0], 'int32')
    const {value, grads} = tf.variableGrads(() => tf.sum(tf.square(tf.add(withoutGradient(() => tf.gather(e, ids)), tf.gather(d, ids)))) as tf.Scalar, [e, d])
    expect(grads[e.name]).to.equal(undefined)
    expect([...grads[d.name].dataSync()]).to.deep.equal([2, 4, 12, 16])
    value.dispose()
    tf.dispose(grads)
    tf.dispose([e, d, ids])
  })

  it('does not leak tensors inside or outside a gradient scope', () => {
    const x = tf.variable(tf.ones([4]))
    const step = () => {
      const {value, grads} = tf.variableGrads(() => tf.sum(tf.mul(stopGradient(x), x)) as tf.Scalar, [x])
      value.dispose()
      tf.dispose(grads)
      tf.tidy(() => {
        stopGradient(x)
      })
    }
    step()
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) step()
    expect(tf.memory().numTensors).to.equal(before)
    x.dispose()
  })
})
