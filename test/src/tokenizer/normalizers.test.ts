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

  it('BertNormalizer (clean_text) turns every whitespace char into one space, as replacing each \\s match with a space does', () => {
    const clean = (t: string) => norm({type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false}, t)
    const odd = 'a\u00a0b\u2003c\u3000d\u000be\u000cf\u2028g\u2029h\u1680i\u202fj\u205fk\ufeffl m  n\t\r\no'
    // the oracle: HF's rule written the direct way (every \s char, the space included, replaced by a space; controls first)
    const oracle = odd.replace(/[\u0000\ufffd]|[\p{Cc}\p{Cf}]/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : '')).replace(/\s/gu, ' ')
    expect(clean(odd)).to.equal(oracle)
    expect(clean(odd)).to.equal('a b c def g h i j kl m  n   o') // \v and \f are controls: dropped
    expect(clean('plain words, one space each')).to.equal('plain words, one space each')
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
