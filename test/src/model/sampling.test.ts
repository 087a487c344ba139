import {expect} from 'chai'

import {sampleCategorical} from '../../../src/model/sampling.js'
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
})
