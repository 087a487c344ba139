import {expect} from 'chai'
import {ConfigError} from '../../../src/errors.js'
import {buildPreTokenizer} from '../../../src/tokenizer/pre-tokenizers.js'

const split = (json: Record<string, unknown>, text: string) => buildPreTokenizer({type: String(json.type), ...json}, 'test')!(text)

// Expected values were checked against HF tokenizers 0.23.2 (npm binding, preTokenizeString).
describe('buildPreTokenizer', () => {
  it('Whitespace splits words from runs of punctuation (HF docs example)', () => {
    expect(split({type: 'Whitespace'}, "Hey man!! How's it going?")).to.deep.equal(['Hey', 'man', '!!', 'How', "'", 's', 'it', 'going', '?'])
  })

  it('WhitespaceSplit splits on whitespace only', () => {
    expect(split({type: 'WhitespaceSplit'}, " Hey man!!\tHow's ")).to.deep.equal(['Hey', 'man!!', "How's"])
  })

  it('BertPreTokenizer isolates every punctuation character', () => {
    expect(split({type: 'BertPreTokenizer'}, 'Hey, friend!! ¿qué?')).to.deep.equal(['Hey', ',', 'friend', '!', '!', '¿', 'qué', '?'])
  })

  it('Metaspace replaces spaces, prepends ▁ and merges it with the next word', () => {
    expect(split({type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true}, 'Hey  friend')).to.deep.equal(['▁Hey', '▁', '▁friend'])
    expect(split({type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true}, 'Hey friend')).to.deep.equal(['Hey', '▁friend'])
    expect(split({type: 'Metaspace', replacement: '▁', add_prefix_space: true, split: false}, 'a b')).to.deep.equal(['▁a▁b'])
  })

  it('ByteLevel maps bytes to the GPT-2 alphabet after the GPT-2 split', () => {
    expect(split({type: 'ByteLevel', add_prefix_space: false, use_regex: true}, "Hello world's é")).to.deep.equal(['Hello', 'Ġworld', "'s", 'ĠÃ©'])
    expect(split({type: 'ByteLevel', add_prefix_space: true, use_regex: true}, 'Hi')).to.deep.equal(['ĠHi'])
  })

  it('Punctuation isolates punctuation; Sequence chains pre-tokenizers', () => {
    expect(split({type: 'Punctuation', behavior: 'Isolated'}, 'Hey, friend')).to.deep.equal(['Hey', ',', ' friend'])
    expect(split({type: 'Sequence', pretokenizers: [{type: 'Punctuation'}, {type: 'Metaspace', replacement: '▁', prepend_scheme: 'always'}]}, 'a,b c'))
      .to.deep.equal(['▁a', '▁,', '▁b', '▁c'])
    expect(split({type: 'Sequence', pretokenizers: [{type: 'Punctuation'}, {type: 'Metaspace', replacement: '▁', prepend_scheme: 'first'}]}, 'a,b c'))
      .to.deep.equal(['▁a', ',', 'b', '▁c'])
  })

  it('Digits splits digit runs, or single digits when individual_digits', () => {
    expect(split({type: 'Digits', individual_digits: false}, 'abc123d')).to.deep.equal(['abc', '123', 'd'])
    expect(split({type: 'Digits', individual_digits: true}, 'a12')).to.deep.equal(['a', '1', '2'])
  })

  it('names an unsupported pre-tokenizer and lists the supported ones', () => {
    expect(() => split({type: 'UnicodeScripts'}, 'x')).to.throw(ConfigError, /unsupported pre_tokenizer "UnicodeScripts".*Metaspace/)
  })
})
