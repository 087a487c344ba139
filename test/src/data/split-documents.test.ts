import {expect} from 'chai'
import {splitDocuments} from '../../../src/data/split-documents.js'

describe('splitDocuments', () => {
  it('puts every document in exactly one split', () => {
    const {train, eval: ev} = splitDocuments({count: 1000, evalFraction: 0.1, seed: 7})
    const seen = new Uint8Array(1000)
    for (const i of train) seen[i]++
    for (const i of ev) seen[i]++
    expect([...seen].every((c) => c === 1)).to.equal(true)
    expect(ev.length).to.equal(100)
  })

  it('is reproducible for a seed and differs between seeds', () => {
    const a = splitDocuments({count: 200, evalFraction: 0.2, seed: 1})
    const b = splitDocuments({count: 200, evalFraction: 0.2, seed: 1})
    const c = splitDocuments({count: 200, evalFraction: 0.2, seed: 2})
    expect([...a.eval]).to.deep.equal([...b.eval])
    expect([...a.eval]).to.not.deep.equal([...c.eval])
  })

  it('keeps source order within each split and holds out at least one of two documents', () => {
    const {train, eval: ev} = splitDocuments({count: 50, evalFraction: 0.3, seed: 3})
    expect([...train]).to.deep.equal([...train].sort((x, y) => x - y))
    expect(splitDocuments({count: 2, evalFraction: 0.01, seed: 3}).eval.length).to.equal(1)
    expect(splitDocuments({count: 1, evalFraction: 0.5, seed: 3}).eval.length).to.equal(0)
    expect(splitDocuments({count: 10, evalFraction: 0, seed: 3}).eval.length).to.equal(0)
    expect(ev.length).to.equal(15)
  })
})
