import {expect} from 'chai'
import {Rng} from '../../../src/util/rng.js'

describe('Rng', () => {
  it('gives the same stream for the same key and different streams for different keys', () => {
    const a = Rng.derive(1, 'mask', 7)
    const b = Rng.derive(1, 'mask', 7)
    const c = Rng.derive(1, 'mask', 8)
    const xa = Array.from({length: 8}, () => a.nextUint32())
    const xb = Array.from({length: 8}, () => b.nextUint32())
    const xc = Array.from({length: 8}, () => c.nextUint32())
    expect(xa).to.deep.equal(xb)
    expect(xa).to.not.deep.equal(xc)
  })

  it('resumes from a saved state exactly', () => {
    const a = Rng.derive('x')
    for (let i = 0; i < 5; i++) a.uniform()
    const b = Rng.fromState(a.getState())
    expect(Array.from({length: 5}, () => a.uniform())).to.deep.equal(Array.from({length: 5}, () => b.uniform()))
  })

  it('draws uniform integers without bias across buckets', () => {
    const r = Rng.derive(42)
    const counts = new Array(6).fill(0)
    const n = 60000
    for (let i = 0; i < n; i++) counts[r.int(6)]++
    for (const c of counts) expect(Math.abs(c - n / 6)).to.be.lessThan(5 * Math.sqrt(n / 6))
  })

  it('draws uniforms in [0, 1) with mean 1/2 and normals with unit variance', () => {
    const r = Rng.derive(3)
    let s = 0
    let s2 = 0
    const n = 20000
    for (let i = 0; i < n; i++) {
      const u = r.uniform()
      expect(u).to.be.at.least(0).and.lessThan(1)
      s += u
      const z = r.normal()
      s2 += z * z
    }
    expect(s / n).to.be.closeTo(0.5, 0.01)
    expect(s2 / n).to.be.closeTo(1, 0.05)
  })
})
