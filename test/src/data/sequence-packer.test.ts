import {expect} from 'chai'
import {SequencePacker} from '../../../src/data/sequence-packer.js'

function run(mode: 'pack' | 'truncate', maxLength: number, docs: number[][]): number[][] {
  const out: number[][] = []
  const p = new SequencePacker({maxLength, mode, cls: 1, sep: 2, emit: (s) => out.push([...s])})
  for (const d of docs) p.add(Int32Array.from(d))
  p.finish()
  return out
}

describe('SequencePacker', () => {
  it('packs consecutive documents into [CLS] chunk [SEP] of max_length', () => {
    expect(run('pack', 5, [[10, 11], [12, 13, 14, 15], [16]])).to.deep.equal([
      [1, 10, 11, 12, 2],
      [1, 13, 14, 15, 2],
      [1, 16, 2],
    ])
  })

  it('truncates each document to max_length - 2 ids in truncate mode', () => {
    expect(run('truncate', 4, [[10, 11, 12], [13], []])).to.deep.equal([
      [1, 10, 11, 2],
      [1, 13, 2],
    ])
  })

  it('addDocuments (a batch of documents as concatenated ids + lengths) emits what add() of each document emits', () => {
    const docs = [[10, 11, 12], [], [13], [14, 15, 16, 17, 18, 19, 20], [21, 22]]
    for (const mode of ['pack', 'truncate'] as const) {
      const out: number[][] = []
      const p = new SequencePacker({maxLength: 5, mode, cls: 1, sep: 2, emit: (s) => out.push([...s])})
      p.addDocuments(Int32Array.from(docs.slice(0, 2).flat()), Int32Array.from(docs.slice(0, 2), (d) => d.length))
      p.addDocuments(Int32Array.from(docs.slice(2).flat()), Int32Array.from(docs.slice(2), (d) => d.length))
      p.finish()
      expect(out, mode).to.deep.equal(run(mode, 5, docs))
    }
  })

  it('rejects a max_length with no room for a token', () => {
    expect(() => run('pack', 2, [[5]])).to.throw(RangeError, /at least 3/)
  })
})
