import {expect} from 'chai'

import {sampleCategorical} from '../../../src/model/sampling.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {Rng} from '../../../src/util/rng.js'

describe('sampling', () => {
  const logits = Float32Array.from([0, 1, 2, 3, /* row 2 */ 50, 0, 0, 0])

  it('is reproducible for the same Rng key and differs for another', () => {
    const big = Float32Array.from({length: 64 * 10}, (_, k) => Math.sin(k))
    const a = sampleCategorical({logits: big, rows: 64, vocab: 10, rng: Rng.derive(1, 'sample', 0)})
    const b = sampleCategorical({logits: big, rows: 64, vocab: 10, rng: Rng.derive(1, 'sample', 0)})
    const c = sampleCategorical({logits: big, rows: 64, vocab: 10, rng: Rng.derive(1, 'sample', 1)})
    expect(a).to.deep.equal(b)
    expect(a).to.not.deep.equal(c)
  })

  it('draws with the softmax probabilities (not argmax)', () => {
    const rng = Rng.derive(7)
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) counts[sampleCategorical({logits: logits.subarray(0, 4), rows: 1, vocab: 4, rng})[0]]++
    const z = 1 + Math.E + Math.E ** 2 + Math.E ** 3
    const p = [1, Math.E, Math.E ** 2, Math.E ** 3].map((e) => e / z)
    for (let v = 0; v < 4; v++) expect(Math.abs(counts[v] / 4000 - p[v]), `id ${v}`).to.be.lessThan(0.03)
    expect(counts[0]).to.be.greaterThan(0) // argmax would never draw it
  })

  it('sharpens with a low temperature and flattens with a high one', () => {
    const rng = Rng.derive(8)
    const cold = sampleCategorical({logits: Float32Array.from({length: 400}, (_, k) => k % 4), rows: 100, vocab: 4, rng, temperature: 0.05})
    expect([...cold].every((id) => id === 3)).to.equal(true)
    const hot = sampleCategorical({logits: Float32Array.from({length: 4000}, (_, k) => k % 4), rows: 1000, vocab: 4, rng, temperature: 1000})
    expect(hot.filter((id) => id === 0).length).to.be.greaterThan(200)
  })

  it('draws the only id with mass from a peaked row', () => {
    expect(sampleCategorical({logits: logits.subarray(4), rows: 1, vocab: 4, rng: Rng.derive(2)})[0]).to.equal(0)
  })

  it('rejects a non-positive temperature and a wrong logits length', () => {
    expect(() => sampleCategorical({logits, rows: 2, vocab: 4, rng: Rng.derive(1), temperature: 0})).to.throw(RangeError)
    expect(() => sampleCategorical({logits, rows: 3, vocab: 4, rng: Rng.derive(1)})).to.throw(RangeError)
  })

  it('draws the same ids in C (native addon) as in JS, row for row', function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok || typeof loaded.kernels.sampleRows !== 'function') this.skip()
    // wide logits (the exps span underflow to 1), ties, a row of -Infinity but one, and a NaN row
    const rows = 300
    const vocab = 4000
    const gen = Rng.derive(11, 'logits')
    const logits = Float32Array.from({length: rows * vocab}, () => (gen.uniform() - 0.5) * (gen.uniform() < 0.1 ? 2000 : 40))
    logits.fill(1, 5 * vocab, 6 * vocab)
    logits.fill(-Infinity, 7 * vocab, 8 * vocab)
    logits[7 * vocab + 123] = 0
    logits[9 * vocab + 7] = Number.NaN
    for (const temperature of [1, 3, 0.05]) {
      const c = sampleCategorical({logits, rows, vocab, rng: Rng.derive(3, 'sample', temperature), temperature})
      const js = sampleCategorical({logits, rows, vocab, rng: Rng.derive(3, 'sample', temperature), temperature, impl: 'js'})
      expect(c, `T ${temperature}`).to.deep.equal(js)
      expect(c[7]).to.equal(123)
      expect(new Set(c).size, 'draws vary').to.be.greaterThan(50)
    }
  })
})
