import {expect} from 'chai'
import {encodeDocuments} from '../../../src/data/encode-documents.js'

describe('encodeDocuments', () => {
  // ids of a document: one per character code, so lengths differ per document
  const encode = (t: string) => Int32Array.from(t, (c) => c.charCodeAt(0))

  it('concatenates each split\'s ids in document order, with one length per document, whatever the split mask', () => {
    const texts = ['ab', 'cde', '', 'f', 'ghij', 'k']
    const isEval = new Uint8Array([9, 9, 0, 1, 0, 1, 1, 0]) // documents 2.. are this batch's
    const enc = encodeDocuments({encode, texts, isEval, firstDoc: 2})
    expect(enc.docs).to.equal(6)
    expect(enc.chars).to.equal(11)
    expect([...enc.train.ids]).to.deep.equal([...encode('ab'), ...encode('k')])
    expect([...enc.train.lengths]).to.deep.equal([2, 0, 1])
    expect([...enc.eval.ids]).to.deep.equal([...encode('cde'), ...encode('f'), ...encode('ghij')])
    expect([...enc.eval.lengths]).to.deep.equal([3, 1, 4])
  })

  it('grows past its first guess of the ids (few characters, many ids) and returns arrays of exactly the ids made', () => {
    const many = (t: string) => new Int32Array(100 * t.length).fill(t.length)
    const texts = ['a', 'bb', 'ccc']
    const enc = encodeDocuments({encode: many, texts, isEval: new Uint8Array(3), firstDoc: 0})
    expect(enc.train.ids.length).to.equal(600)
    // transferred to the main thread: the buffer holds nothing beyond the ids
    expect(enc.train.ids.buffer.byteLength).to.equal(600 * 4)
    expect(enc.train.lengths.buffer.byteLength).to.equal(3 * 4)
    expect(enc.eval.ids.length).to.equal(0)
    expect(enc.eval.lengths.length).to.equal(0)
    expect(enc.train.ids.slice(100, 300).every((x) => x === 2)).to.equal(true)
    expect(enc.train.ids.slice(300).every((x) => x === 3)).to.equal(true)
  })
})
