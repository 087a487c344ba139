import {expect} from 'chai'
import * as tf from '#tfjs'
import {initBackend} from '../../../src/runtime/backend.js'
import {AdamW} from '../../../src/train/adamw.js'
import {clipByGlobalNorm} from '../../../src/train/clip.js'
import {GradAccumulator} from '../../../src/train/grad-accumulator.js'
import {exclusiveBuffer} from '../../../src/runtime/exclusive-buffer.js'

/** A variable that owns its buffer (the initial tensor disposed). */
function owned(t: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(t, true, name)
  t.dispose()
  return v
}

for (const backend of ['wasm'] as const) {
  describe(`AdamW in place (${backend})`, () => {
    before(async () => {
      await initBackend({backend, native: 'off'})
    })

    it('updates p, m, v in their own buffers bit for bit like the tfjs-op path, and never through a shared buffer', () => {
      const values = Float32Array.from({length: 257}, (_, i) => Math.sin(i) * 0.3)
      const grads = [0, 1, 2].map((s) => tf.tensor1d(Float32Array.from({length: 257}, (_, i) => Math.cos(i * (s + 1)) * 0.01)))
      const fast = owned(tf.tensor1d(values), `inplace-fast-${backend}`)
      const slow = owned(tf.tensor1d(values), `inplace-slow-${backend}`)
      const pin = slow.clone() // shares slow's buffer: forces the tfjs-op path, and must keep the old values
      expect(exclusiveBuffer(fast)).to.not.equal(undefined)
      expect(exclusiveBuffer(slow)).to.equal(undefined)
      const a = new AdamW({variables: new Map([['w.weight', fast]]), weightDecay: 0.1})
      const b = new AdamW({variables: new Map([['w.weight', slow]]), weightDecay: 0.1})
      const before = tf.memory().numTensors
      for (const [k, g] of grads.entries()) {
        a.step(new Map([['w.weight', g]]), 0.01 * (k + 1))
        b.step(new Map([['w.weight', g]]), 0.01 * (k + 1))
      }
      expect(tf.memory().numTensors).to.equal(before)
      expect(Array.from(fast.dataSync())).to.deep.equal(Array.from(slow.dataSync()))
      expect(Array.from(fast.dataSync())).to.not.deep.equal(Array.from(values))
      const sa = a.exportState()
      const sb = b.exportState()
      expect(Array.from(sa.m.get('w.weight')!.data)).to.deep.equal(Array.from(sb.m.get('w.weight')!.data))
      expect(Array.from(sa.v.get('w.weight')!.data)).to.deep.equal(Array.from(sb.v.get('w.weight')!.data))
      expect(Array.from(pin.dataSync())).to.deep.equal(Array.from(values))
      tf.dispose([fast, slow, pin, ...grads])
      a.dispose()
      b.dispose()
    })

    if (backend === 'wasm') {
      it('a matmul after an in-place update reads the new weights (XNNPACK operator cache dropped)', () => {
        const w = owned(tf.tensor2d([[1, 2], [3, 4]]), 'inplace-matmul')
        const x = tf.tensor2d([[1, 0], [0, 1]])
        const y0 = tf.matMul(x, w)
        expect(Array.from(y0.dataSync())).to.deep.equal([1, 2, 3, 4])
        const buf = exclusiveBuffer(w)!
        buf.values.set([5, 6, 7, 8])
        buf.done()
        const y1 = tf.matMul(x, w)
        expect(Array.from(y1.dataSync())).to.deep.equal([5, 6, 7, 8])
        tf.dispose([w, x, y0, y1])
      })
    }
  })
}

describe('exclusiveBuffer (cpu)', () => {
  before(async () => {
    await initBackend({backend: 'cpu'})
  })

  it('never writes in place on cpu (tensors there may wrap a caller-held array)', () => {
    const host = Float32Array.from([1, 2])
    const v = owned(tf.tensor1d(host), 'inplace-cpu')
    expect(exclusiveBuffer(v)).to.equal(undefined)
    const a = new AdamW({variables: new Map([['w', v]])})
    const g = tf.tensor1d([0.1, 0.1])
    a.step(new Map([['w', g]]), 0.1)
    expect(Array.from(host)).to.deep.equal([1, 2])
    tf.dispose([v, g])
    a.dispose()
  })
})

describe('clip and accumulation in place (wasm)', () => {
  before(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  it('clipByGlobalNorm (inPlace by default) scales the inputs to the same values as the copying path', async () => {
    const data = Float32Array.from({length: 33}, (_, i) => Math.sin(i) * 3)
    const a = new Map([['g', tf.tensor1d(data)]])
    const b = new Map([['g', tf.tensor1d(data)]])
    const copy = await clipByGlobalNorm({grads: a, maxNorm: 1, inPlace: false})
    const inPlace = await clipByGlobalNorm({grads: b, maxNorm: 1})
    expect(inPlace.norm).to.equal(copy.norm)
    expect(inPlace.grads.get('g')).to.equal(b.get('g')) // the same tensor, scaled
    expect(Array.from(inPlace.grads.get('g')!.dataSync())).to.deep.equal(Array.from(copy.grads.get('g')!.dataSync()))
    tf.dispose([...a.values(), ...b.values(), ...copy.grads.values(), ...inPlace.grads.values()])
  })

  it('GradAccumulator sums in place to the same mean as tfjs adds, without leaking', () => {
    const parts = [0, 1, 2].map((k) => Float32Array.from({length: 17}, (_, i) => Math.cos(i + k) / 3))
    const expected = tf.tidy(() => tf.div(tf.addN(parts.map((p) => tf.tensor1d(p))), 3).dataSync())
    const before = tf.memory().numTensors
    const acc = new GradAccumulator()
    for (const p of parts) acc.add(new Map([['g', tf.tensor1d(p)]]))
    const mean = acc.take()
    expect(Array.from(mean.get('g')!.dataSync())).to.deep.equal(Array.from(expected))
    tf.dispose([...mean.values()])
    expect(tf.memory().numTensors).to.equal(before)
  })
})
