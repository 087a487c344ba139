import {expect} from 'chai'
import {buildDecoder} from '../../../src/tokenizer/decoders.js'
import {buildNormalizer} from '../../../src/tokenizer/normalizers.js'

const norm = (json: Record<string, unknown>, text: string) => buildNormalizer({type: String(json.type), ...json}, 'test')!(text)
const dec = (json: Record<string, unknown>, tokens: string[]) => buildDecoder({type: String(json.type), ...json}, 'test')!(tokens).join('')

describe('buildNormalizer', () => {
  it('BertNormalizer cleans control chars, pads CJK, strips accents and lowercases', () => {
    expect(norm({type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true}, 'Héllo\tWORLD\u0000中'))
      .to.equal('hello world 中 ')
    expect(norm({type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: false}, 'Héllo'))
      .to.equal('Héllo')
  })

  it('Strip removes Unicode whitespace at either end only', () => {
    expect(norm({type: 'Strip', strip_left: true, strip_right: true}, '\u3000\t a  b \u00a0\n')).to.equal('a  b')
    expect(norm({type: 'Strip', strip_left: false, strip_right: true}, '  a  ')).to.equal('  a')
  })

  it('Replace handles String and Regex patterns; Sequence applies in order', () => {
    expect(norm({type: 'Replace', pattern: {Regex: ' {2,}'}, content: ' '}, 'a   b  c d')).to.equal('a b c d')
    expect(norm({type: 'Replace', pattern: {String: '``'}, content: '"'}, '``x``')).to.equal('"x"')
    expect(norm({type: 'Sequence', normalizers: [{type: 'NFKC'}, {type: 'Lowercase'}]}, 'ＡＢ ﬁ')).to.equal('ab fi')
  })
})

describe('buildDecoder', () => {
  it('WordPiece joins ## continuations and cleans spaces before punctuation', () => {
    expect(dec({type: 'WordPiece', prefix: '##', cleanup: true}, ['un', '##aff', '##able', ',', 'hello', '!'])).to.equal('unaffable, hello!')
  })

  it('Metaspace turns ▁ into spaces and drops the leading one', () => {
    expect(dec({type: 'Metaspace', replacement: '▁', prepend_scheme: 'always'}, ['▁Hey', '▁fri', 'end'])).to.equal('Hey friend')
  })

  it('ByteFallback + Fuse rebuild UTF-8 from byte pieces', () => {
    const json = {type: 'Sequence', decoders: [{type: 'Replace', pattern: {String: '▁'}, content: ' '}, {type: 'ByteFallback'}, {type: 'Fuse'}, {type: 'Strip', content: ' ', start: 1, stop: 0}]}
    expect(dec(json, ['▁caf', '<0xC3>', '<0xA9>', '▁ok'])).to.equal('café ok')
    expect(dec(json, ['▁x', '<0xC3>'])).to.equal('x\ufffd')
  })
})
