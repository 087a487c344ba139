import {expect} from 'chai'
import * as tf from '#tfjs'
import {AdamW, isNoDecayName} from '../../../src/train/adamw.js'

/** torch.optim.AdamW in float64, one parameter vector. */
function reference(p0: number[], grads: number[][], lrs: number[], o: {b1: number; b2: number; eps: number; wd: number}): number[] {
  const p = [...p0]
  const m = p.map(() => 0)
  const v = p.map(() => 0)
  grads.forEach((g, k) => {
    const t = k + 1
    const lr = lrs[k]
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * o.wd
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i]
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i]
      const mhat = m[i] / (1 - o.b1 ** t)
      const vhat = v[i] / (1 - o.b2 ** t)
      p[i] -= (lr * mhat) / (Math.sqrt(vhat) + o.eps)
    }
  })
  return p
}

function closeTo(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  expect(actual.length).to.equal(expected.length)
  for (let i = 0; i < expected.length; i++) expect(actual[i]).to.be.closeTo(expected[i], tol * Math.max(1, Math.abs(expected[i])))
}

describe('AdamW', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  const o = {b1: 0.9, b2: 0.98, eps: 1e-6, wd: 0.1}
  const grads = [
    [0.5, -1.0, 2.0],
    [0.25, 0.5, -1.5],
    [-0.75, 1.0, 0.1],
  ]
  const lrs = [0.1, 0.05, 0.02]

  it('matches the hand-computed torch AdamW update, including decoupled weight decay', () => {
    const w = tf.variable(tf.tensor1d([1, -2, 0.5]))
    const b = tf.variable(tf.tensor1d([0.3, 0.7, -0.1]))
    const opt = new AdamW({variables: new Map([['layer.dense.weight', w], ['layer.dense.bias', b]]), beta1: o.b1, beta2: o.b2, eps: o.eps, weightDecay: o.wd})
    for (let k = 0; k < grads.length; k++) {
      const g = new Map([['layer.dense.weight', tf.tensor1d(grads[k])], ['layer.dense.bias', tf.tensor1d(grads[k])]])
      opt.step(g, lrs[k])
      for (const t of g.values()) t.dispose()
    }
    closeTo(w.dataSync(), reference([1, -2, 0.5], grads, lrs, o))
    // the bias is exempt from decay: same as the reference with wd = 0
    closeTo(b.dataSync(), reference([0.3, 0.7, -0.1], grads, lrs, {...o, wd: 0}))
    // and decay made a difference for the weight (the test would notice a missing decay)
    const noDecay = reference([1, -2, 0.5], grads, lrs, {...o, wd: 0})
    expect(Math.abs(w.dataSync()[0] - noDecay[0])).to.be.greaterThan(1e-3)
    opt.dispose()
    w.dispose()
    b.dispose()
  })

  it('exempts biases and LayerNorm parameters from weight decay by name', () => {
    expect(isNoDecayName('deberta.encoder.layer.0.attention.self.query_proj.bias')).to.equal(true)
    expect(isNoDecayName('deberta.embeddings.LayerNorm.weight')).to.equal(true)
    expect(isNoDecayName('deberta.encoder.layer.0.output.LayerNorm.bias')).to.equal(true)
    expect(isNoDecayName('deberta.encoder.layer.0.attention.self.query_proj.weight')).to.equal(false)
    expect(isNoDecayName('deberta.embeddings.word_embeddings._weight')).to.equal(false)
  })

  it('leaves parameters without a gradient untouched (no decay, no step count)', () => {
    const a = tf.variable(tf.tensor1d([1, 2]))
    const c = tf.variable(tf.tensor1d([3, 4]))
    const opt = new AdamW({variables: new Map([['a', a], ['c', c]]), weightDecay: 0.5})
    const g = tf.tensor1d([1, 1])
    opt.step(new Map([['a', g]]), 0.1)
    expect(Array.from(c.dataSync())).to.deep.equal([3, 4])
    expect(opt.exportState().steps).to.deep.equal({a: 1, c: 0})
    g.dispose()
    opt.dispose()
    a.dispose()
    c.dispose()
  })

  it('continues identically after exporting and importing its state', () => {
    const mk = (): tf.Variable => tf.variable(tf.tensor1d([1, -2, 0.5]))
    const w1 = mk()
    const opt1 = new AdamW({variables: new Map([['w', w1]]), beta2: o.b2, weightDecay: o.wd})
    const stepWith = (opt: AdamW, k: number): void => {
      const g = tf.tensor1d(grads[k])
      opt.step(new Map([['w', g]]), lrs[k])
      g.dispose()
    }
    stepWith(opt1, 0)
    const state = opt1.exportState()
    const w2 = tf.variable(w1.clone())
    const opt2 = new AdamW({variables: new Map([['w', w2]]), beta2: o.b2, weightDecay: o.wd})
    opt2.importState(state)
    stepWith(opt1, 1)
    stepWith(opt2, 1)
    expect(Array.from(w2.dataSync())).to.deep.equal(Array.from(w1.dataSync()))
    closeTo(w1.dataSync(), reference([1, -2, 0.5], grads.slice(0, 2), lrs.slice(0, 2), {...o, eps: 1e-6}))
    for (const x of [opt1, opt2, w1, w2]) x.dispose()
  })

  it('rejects a gradient of the wrong shape or for an unknown parameter', () => {
    const w = tf.variable(tf.tensor1d([1, 2]))
    const opt = new AdamW({variables: new Map([['w', w]])})
    const g = tf.tensor1d([1, 2, 3])
    expect(() => opt.step(new Map([['w', g]]), 0.1)).to.throw(/shape \[3\].*\[2\]/)
    expect(() => opt.step(new Map([['x', g]]), 0.1)).to.throw(/not one of its 1 parameters/)
    for (const x of [g, opt, w]) x.dispose()
  })

  it('does not leak tensors over steps, nor after dispose', () => {
    const w = tf.variable(tf.randomNormal([8, 8]))
    const g = tf.randomNormal([8, 8])
    const start = tf.memory().numTensors
    const opt = new AdamW({variables: new Map([['w', w]])})
    opt.step(new Map([['w', g]]), 0.01)
    const before = tf.memory().numTensors
    for (let i = 0; i < 5; i++) opt.step(new Map([['w', g]]), 0.01)
    expect(tf.memory().numTensors).to.equal(before)
    opt.dispose()
    expect(tf.memory().numTensors).to.equal(start)
    for (const x of [g, w]) x.dispose()
  })
})
