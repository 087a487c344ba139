import {expect} from 'chai'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {ConfigError} from '../../../src/errors.js'
import {loadTokenizer, trainTokenizer, type Tokenizer} from '../../../src/tokenizer/index.js'
import {corpusSentences} from './fixture-paths.js'

const CORPUS = corpusSentences(3000)
const PLAIN = ['The house was built in 1984, and it is still standing.', 'Particularly sought was information about the policies.']

describe('trainTokenizer', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-train-')) })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  for (const type of ['unigram', 'wordpiece', 'bpe'] as const) {
    describe(type, () => {
      let tok: Tokenizer
      before(async () => { tok = await trainTokenizer({texts: CORPUS, type, vocabSize: 1200, lowercase: true}) })

      it('reaches exactly the chosen vocab size with DeBERTa specials first', () => {
        expect(tok.kind).to.equal(type)
        expect(tok.vocabSize).to.equal(1200)
        expect(tok.special).to.deep.equal({pad: 0, cls: 1, sep: 2, unk: 3, mask: 4})
        expect([0, 1, 2, 3, 4].map((i) => tok.idToToken(i))).to.deep.equal(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'])
        expect(tok.idToToken(1199)).to.be.a('string')
        expect(tok.idToToken(1200)).to.equal(undefined)
      })

      it('round trips plain text through encode and decode', () => {
        for (const text of PLAIN) {
          const ids = tok.encode(text)
          expect(ids.length).to.be.lessThan(text.length / 2) // merges/pieces were learned and used
          expect(tok.decode(ids)).to.equal(text.toLowerCase())
        }
      })

      it('saves a tokenizer.json that loads back to the same ids and fingerprint', () => {
        tok.save(dir)
        const back = loadTokenizer({path: dir})
        expect(back.kind).to.equal(type)
        expect(back.vocabSize).to.equal(1200)
        expect(back.special).to.deep.equal(tok.special)
        for (const text of [...PLAIN, ...CORPUS.slice(0, 200)]) expect(Array.from(back.encode(text))).to.deep.equal(Array.from(tok.encode(text)))
        expect(back.fingerprint()).to.equal(tok.fingerprint())
      })

      it('is deterministic (also from an async iterable) and the fingerprint follows the vocab', async () => {
        async function* gen() { for (const t of CORPUS) yield t }
        const again = await trainTokenizer({texts: gen(), type, vocabSize: 1200, lowercase: true})
        expect(again.fingerprint()).to.equal(tok.fingerprint())
        const bigger = await trainTokenizer({texts: CORPUS, type, vocabSize: 1201, lowercase: true})
        expect(bigger.fingerprint()).to.not.equal(tok.fingerprint())
      })
    })
  }

  it('lowercases when asked', async () => {
    const tok = await trainTokenizer({texts: CORPUS, type: 'wordpiece', vocabSize: 1000, lowercase: true})
    expect(Array.from(tok.encode('THE HOUSE'))).to.deep.equal(Array.from(tok.encode('the house')))
  })

  it('stops early when no pair reaches minFrequency', async () => {
    const tok = await trainTokenizer({texts: ['abab abab', 'cd'], type: 'wordpiece', vocabSize: 100, minFrequency: 2})
    // specials + alphabet a c ##a ##b ##d; every pair of "abab" has count 2, so ties go lexicographically:
    // ##a+##b, ##b+##ab, a+##bab. "cd" occurs once: (c, ##d) is never merged.
    expect(tok.vocabSize).to.equal(5 + 5 + 3)
    expect(tok.idToToken(10)).to.equal('##ab')
    expect(tok.idToToken(11)).to.equal('##bab')
    expect(Array.from(tok.encode('abab cd')).map((i) => tok.idToToken(i))).to.deep.equal(['abab', 'c', '##d'])
  })

  it('rejects an unknown type and a vocab too small, saying what is allowed', async () => {
    let err: unknown
    try { await trainTokenizer({texts: CORPUS, type: 'wordlevel' as 'bpe', vocabSize: 1000}) } catch (e) { err = e }
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as Error).message).to.match(/trainable types are unigram, wordpiece, bpe/)
    err = undefined
    try { await trainTokenizer({texts: CORPUS, type: 'bpe', vocabSize: 100}) } catch (e) { err = e }
    expect((err as Error).message).to.match(/at least 261/)
  })

  // sha256 of tokenizer.json as trained before the trainer was made faster (commit dfec5ab):
  // the speed-ups must not move a single merge
  const TRAINED = {
    offlineDefault: 'eaa95148223750a75948c8f48dad65f2322bf4f5c8d5f8d301fff2847cbe70ad',
    wordpieceCased: '0b764371f614a9e3afce6eb4a7a9669bb8e41fbe20084f6fd6051d2f32feacf6',
    bpe: 'a55ccc6e9f96ea5aa1c35023efa9f56086ccfd26418cd2b32072f27f607702f1',
  }
  const savedHash = (tok: Tokenizer) => {
    tok.save(dir)
    return crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'tokenizer.json'))).digest('hex')
  }

  it('trains the offline default\'s WordPiece (4,000, lowercase, the 100k nlp-corpus sentences) to the same tokenizer.json bytes as before', async function () {
    this.timeout(60_000)
    const tok = await trainTokenizer({texts: corpusSentences(100_000), type: 'wordpiece', vocabSize: 4000, lowercase: true})
    expect(savedHash(tok)).to.equal(TRAINED.offlineDefault)
  })

  it('trains a cased WordPiece and a byte-level BPE to the same tokenizer.json bytes as before', async () => {
    expect(savedHash(await trainTokenizer({texts: CORPUS, type: 'wordpiece', vocabSize: 2000}))).to.equal(TRAINED.wordpieceCased)
    expect(savedHash(await trainTokenizer({texts: CORPUS, type: 'bpe', vocabSize: 1500}))).to.equal(TRAINED.bpe)
  })
})
