import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {ConfigError} from '../../../src/errors.js'
import {loadTokenizer} from '../../../src/tokenizer/index.js'
import type {TokenizerJson} from '../../../src/tokenizer/tokenizer-json.js'
import {SPM_FIXTURE_DIR} from './fixture-paths.js'

function readSamples(): {lines: string[]; ids: number[][]} {
  const lines = fs.readFileSync(path.join(SPM_FIXTURE_DIR, 'samples.txt'), 'utf8').split('\n').slice(0, -1)
  const ids = fs.readFileSync(path.join(SPM_FIXTURE_DIR, 'samples.ids'), 'utf8').split('\n').slice(0, -1)
    .map((l) => (l === '' ? [] : l.split(' ').map(Number)))
  return {lines, ids}
}

const specialAdded = (id: number, content: string) => ({id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true})

describe('loadTokenizer', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-tok-')) })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  describe('spm.model (DeBERTa-v3 conversion)', () => {
    it('gives the same ids as spm_encode on the sample lines, unicode and odd whitespace included', () => {
      const tok = loadTokenizer({path: SPM_FIXTURE_DIR})
      const {lines, ids} = readSamples()
      expect(lines.length).to.equal(ids.length)
      for (let i = 0; i < lines.length; i++) {
        expect(Array.from(tok.encode(lines[i])), `line ${i + 1}: ${JSON.stringify(lines[i])}`).to.deep.equal(ids[i])
      }
    })

    it('puts [MASK] after the pieces and takes [PAD]/[CLS]/[SEP]/[UNK] from the pieces', () => {
      const tok = loadTokenizer({path: path.join(SPM_FIXTURE_DIR, 'spm.model')})
      expect(tok.kind).to.equal('unigram')
      expect(tok.special).to.deep.equal({pad: 0, cls: 1, sep: 2, unk: 3, mask: 2000})
      expect(tok.vocabSize).to.equal(2001)
      expect(tok.idToToken(2000)).to.equal('[MASK]')
      expect(Array.from(tok.encode('a [MASK] b'))).to.include(2000)
    })

    it('lowercases when tokenizer_config.json says do_lower_case', () => {
      fs.copyFileSync(path.join(SPM_FIXTURE_DIR, 'spm.model'), path.join(dir, 'spm.model'))
      const cased = loadTokenizer({path: dir})
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({do_lower_case: true}))
      const lower = loadTokenizer({path: dir})
      expect(Array.from(lower.encode('THE HOUSE'))).to.deep.equal(Array.from(cased.encode('the house')))
      expect(Array.from(cased.encode('THE HOUSE'))).to.not.deep.equal(Array.from(cased.encode('the house')))
      expect(lower.fingerprint()).to.not.equal(cased.fingerprint())
    })

    it('takes added tokens from added_tokens.json and rejects ids that leave a gap', () => {
      fs.copyFileSync(path.join(SPM_FIXTURE_DIR, 'spm.model'), path.join(dir, 'spm.model'))
      fs.writeFileSync(path.join(dir, 'added_tokens.json'), JSON.stringify({'[MASK]': 2000, '<extra>': 2001}))
      const tok = loadTokenizer({path: dir})
      expect(tok.special.mask).to.equal(2000)
      expect(tok.vocabSize).to.equal(2002)
      expect(Array.from(tok.encode('x <extra>')).at(-1)).to.equal(2001)
      fs.writeFileSync(path.join(dir, 'added_tokens.json'), JSON.stringify({'[MASK]': 2005}))
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /\[MASK\] has id 2005/)
    })

    it('saves a tokenizer.json that loads back to identical ids', () => {
      const tok = loadTokenizer({path: SPM_FIXTURE_DIR})
      tok.save(dir)
      for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) expect(fs.existsSync(path.join(dir, f)), f).to.equal(true)
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson
      expect(json.model.type).to.equal('Unigram')
      expect((json.normalizer!.normalizers as {type: string}[]).map((n) => n.type)).to.deep.equal(['Strip', 'Precompiled', 'Replace'])
      expect(json.added_tokens.map((t) => [t.id, t.content])).to.deep.equal([[0, '[PAD]'], [1, '[CLS]'], [2, '[SEP]'], [3, '[UNK]'], [2000, '[MASK]']])
      const back = loadTokenizer({path: dir})
      const {lines} = readSamples()
      for (const line of lines) expect(Array.from(back.encode(line))).to.deep.equal(Array.from(tok.encode(line)))
      expect(back.special).to.deep.equal(tok.special)
      expect(back.fingerprint()).to.equal(tok.fingerprint())
    })

    it('decodes back to the normalized text', () => {
      const tok = loadTokenizer({path: SPM_FIXTURE_DIR})
      expect(tok.decode(tok.encode('The  house   was   built.'))).to.equal('The house was built.')
      expect(tok.decode([1, ...tok.encode('the end'), 2], {skipSpecial: true})).to.equal('the end')
      expect(tok.decode([1, ...tok.encode('the end'), 2])).to.equal('[CLS] the end[SEP]')
    })
  })

  describe('tokenizer.json', () => {
    it('loads a BERT-style WordPiece tokenizer', () => {
      const vocab = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]', 'hello', 'world', '##s', 'un', '##aff', '##able', ',', '!']
      writeJson(path.join(dir, 'tokenizer.json'), {
        version: '1.0', truncation: null, padding: null, added_tokens: vocab.slice(0, 5).map((t, i) => specialAdded(i, t)),
        normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true},
        pre_tokenizer: {type: 'BertPreTokenizer'},
        post_processor: {type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1]},
        decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
        model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i]))},
      })
      const tok = loadTokenizer({path: dir})
      expect(tok.kind).to.equal('wordpiece')
      expect(tok.special).to.deep.equal({pad: 0, cls: 1, sep: 2, unk: 3, mask: 4})
      expect(Array.from(tok.encode('Hello, Worlds! Unaffable xyz'))).to.deep.equal([5, 11, 6, 7, 12, 8, 9, 10, 3])
      expect(tok.decode(tok.encode('hello, worlds!'))).to.equal('hello, worlds!')
    })

    it('loads a byte-level BPE tokenizer with merges in either JSON form', () => {
      const vocab = ['<pad>', '<s>', '</s>', '<unk>', '<mask>', 'a', 'b', 'c', 'Ġ', 'ab', 'Ġc', 'abc']
      const model = (merges: unknown) => ({
        type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges,
      })
      const base = {
        version: '1.0', truncation: null, padding: null, added_tokens: vocab.slice(0, 5).map((t, i) => specialAdded(i, t)),
        normalizer: null, pre_tokenizer: {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true},
        post_processor: {type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: false},
        decoder: {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true},
      }
      writeJson(path.join(dir, 'tokenizer.json'), {...base, model: model(['a b', 'Ġ c', 'ab c'])})
      const tok = loadTokenizer({path: path.join(dir, 'tokenizer.json')})
      expect(tok.kind).to.equal('bpe')
      expect(tok.special).to.deep.equal({pad: 0, cls: 1, sep: 2, unk: 3, mask: 4})
      expect(Array.from(tok.encode('abc c ab ba'))).to.deep.equal([11, 10, 8, 9, 8, 6, 5])
      expect(tok.decode(tok.encode('abc c ab ba'))).to.equal('abc c ab ba')
      writeJson(path.join(dir, 'tokenizer.json'), {...base, model: model([['a', 'b'], ['Ġ', 'c'], ['ab', 'c']])})
      expect(Array.from(loadTokenizer({path: dir}).encode('abc c ab ba'))).to.deep.equal([11, 10, 8, 9, 8, 6, 5])
    })

    it('loads a Unigram tokenizer and picks the best-scoring segmentation', () => {
      const vocab: [string, number][] = [['[PAD]', 0], ['[CLS]', 0], ['[SEP]', 0], ['[UNK]', 0], ['[MASK]', 0],
        ['▁', -2], ['▁a', -3], ['b', -3], ['▁ab', -7], ['a', -3], ['c', -4]]
      writeJson(path.join(dir, 'tokenizer.json'), {
        version: '1.0', truncation: null, padding: null, added_tokens: vocab.slice(0, 5).map(([t], i) => specialAdded(i, t)),
        normalizer: {type: 'Sequence', normalizers: [{type: 'NFKC'}, {type: 'Strip', strip_left: true, strip_right: true}]},
        pre_tokenizer: {type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true},
        post_processor: null, decoder: {type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true},
        model: {type: 'Unigram', unk_id: 3, vocab, byte_fallback: false},
      })
      const tok = loadTokenizer({path: dir})
      // "▁ab": ▁a + b = -6 beats ▁ab = -7; "zz" has no piece: one fused [UNK]
      expect(Array.from(tok.encode('  ab cab zz'))).to.deep.equal([6, 7, 5, 10, 9, 7, 5, 3])
      expect(tok.decode(tok.encode('ab cab'))).to.equal('ab cab')
      // a lone surrogate is one unknown character; it does not swallow the next one
      expect(Array.from(tok.encode('ab\ud800ab'))).to.deep.equal([6, 7, 3, 9, 7])
      expect(Array.from(tok.encode('ab\u{1F600}b'))).to.deep.equal([6, 7, 3, 7])
    })

    it('falls back to <0xXX> byte pieces for unknown text when byte_fallback is set', () => {
      const bytes = Array.from({length: 256}, (_, b): [string, number] => [`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -20])
      const vocab: [string, number][] = [['[PAD]', 0], ['[CLS]', 0], ['[SEP]', 0], ['[UNK]', 0], ['[MASK]', 0], ['▁', -2], ['a', -3], ...bytes]
      writeJson(path.join(dir, 'tokenizer.json'), {
        version: '1.0', truncation: null, padding: null, added_tokens: vocab.slice(0, 5).map(([t], i) => specialAdded(i, t)),
        normalizer: null, pre_tokenizer: {type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true}, post_processor: null,
        decoder: {type: 'Sequence', decoders: [{type: 'Replace', pattern: {String: '▁'}, content: ' '}, {type: 'ByteFallback'}, {type: 'Fuse'}, {type: 'Strip', content: ' ', start: 1, stop: 0}]},
        model: {type: 'Unigram', unk_id: 3, vocab, byte_fallback: true},
      })
      const tok = loadTokenizer({path: dir})
      const ids = Array.from(tok.encode('aé'))
      expect(ids).to.deep.equal([5, 6, 7 + 0xc3, 7 + 0xa9])
      expect(tok.decode(ids)).to.equal('aé')
    })
  })

  describe('errors', () => {
    it('rejects a path that does not exist', () => {
      expect(() => loadTokenizer({path: path.join(dir, 'nope')})).to.throw(ConfigError, /does not exist/)
    })

    it('rejects a folder without tokenizer.json or spm.model, naming both', () => {
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /tokenizer\.json or spm\.model/)
    })

    it('names an unsupported component', () => {
      const allSpecials = {'[PAD]': 0, '[CLS]': 1, '[SEP]': 2, '[UNK]': 3, '[MASK]': 4}
      writeJson(path.join(dir, 'tokenizer.json'), {
        version: '1.0', added_tokens: [], normalizer: {type: 'Nmt'}, pre_tokenizer: null, post_processor: null, decoder: null,
        model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: allSpecials},
      })
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /unsupported normalizer "Nmt"/)
      writeJson(path.join(dir, 'tokenizer.json'), {version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: {type: 'WordLevel', vocab: allSpecials}})
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /unsupported model "WordLevel"/)
    })

    it('reports special tokens missing from the vocabulary', () => {
      writeJson(path.join(dir, 'tokenizer.json'), {
        version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null,
        model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: {'[UNK]': 0, '[PAD]': 1}},
      })
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /special tokens not found.*cls/)
    })

    it('rejects a file that is not a SentencePiece model', () => {
      fs.writeFileSync(path.join(dir, 'spm.model'), Buffer.from([0x0a, 0xff, 0xff, 0xff]))
      expect(() => loadTokenizer({path: dir})).to.throw(ConfigError, /not a valid SentencePiece model/)
    })
  })
})

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value))
}
