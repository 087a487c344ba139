import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {PrecompiledCharsmap} from '../../../src/tokenizer/precompiled-charsmap.js'
import {readSentencePieceModel} from '../../../src/tokenizer/sentencepiece-model.js'
import {SPM_FIXTURE_DIR} from './fixture-paths.js'

describe('PrecompiledCharsmap (nmt_nfkc from the fixture spm.model)', () => {
  const model = readSentencePieceModel({bytes: fs.readFileSync(path.join(SPM_FIXTURE_DIR, 'spm.model'))})
  const map = new PrecompiledCharsmap(model.normalizer.precompiledCharsmap)

  it('applies NFKC mappings: fullwidth, ligatures, circled digits', () => {
    expect(map.normalize('Ｆｕｌｌ ＡＢＣ １２３')).to.equal('Full ABC 123')
    expect(map.normalize('ﬁne ﬂow')).to.equal('fine flow')
    expect(map.normalize('① ②')).to.equal('1 2')
  })

  it('maps odd whitespace to a space and composes combining accents', () => {
    expect(map.normalize('a\tb\u00a0c\u3000d')).to.equal('a b c d')
    expect(map.normalize('cafe\u0301')).to.equal('caf\u00e9')
  })

  it('returns plain ASCII text unchanged (same string)', () => {
    const s = 'The quick brown fox, 42 times!'
    expect(map.normalize(s)).to.equal(s)
  })

  it('rejects a blob whose trie size does not fit', () => {
    expect(() => new PrecompiledCharsmap(Uint8Array.from([0xff, 0xff, 0, 0, 1, 2]))).to.throw(/trie size/)
  })
})

describe('readSentencePieceModel', () => {
  it('reads pieces, trainer spec and normalizer spec', () => {
    const model = readSentencePieceModel({bytes: fs.readFileSync(path.join(SPM_FIXTURE_DIR, 'spm.model'))})
    expect(model.pieces.length).to.equal(2000)
    expect(model.pieces.slice(0, 4).map((p) => [p.piece, p.type])).to.deep.equal([['[PAD]', 3], ['[CLS]', 3], ['[SEP]', 3], ['[UNK]', 2]])
    expect(model.pieces[4].score).to.be.lessThan(0)
    expect(model.trainer).to.deep.include({modelType: 'unigram', byteFallback: false, unkId: 3, bosId: 1, eosId: 2, padId: 0})
    expect(model.normalizer.name).to.equal('nmt_nfkc')
    expect(model.normalizer.addDummyPrefix).to.equal(true)
  })
})
