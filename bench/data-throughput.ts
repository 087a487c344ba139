/**
 * End-to-end data stage throughput: raw text -> tokenizer -> Arrow shards (tokens/s), and the
 * time of a cache hit. Corpus: the nlp-corpus package (100k English sentences), written to a
 * .txt file and repeated until it is at least --mb megabytes. Tokenizer: a 30k WordPiece (or
 * --type unigram|bpe) trained on the corpus (timed separately), or --tokenizer <folder> to load one.
 *
 *   npx tsx bench/data-throughput.ts [--mb 5] [--vocab 30000] [--type wordpiece] [--tokenizer dir] [--max-length 128]
 * Prints one JSON object per line. Target (issue 4): >= 200k tokens/s, cache hit < 1 s.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {parseArgs} from 'node:util'
import {corpusPackageFiles} from '../src/data/nlp-corpus.js'
import {defaultTokenizers} from '../src/data/default-tokenizers.js'
import {prepareData} from '../src/data/prepare-data.js'
import {trainTokenizer} from '../src/tokenizer/index.js'

const {values} = parseArgs({
  options: {
    mb: {type: 'string', default: '5'},
    vocab: {type: 'string', default: '30000'},
    type: {type: 'string', default: 'wordpiece'},
    tokenizer: {type: 'string'},
    'max-length': {type: 'string', default: '128'},
    'train-docs': {type: 'string', default: '100000'},
  },
})
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o))

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-bench-data-'))
try {
  const sentences = corpusPackageFiles({name: 'nlp-corpus'}).flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as string[])
  const once = sentences.map((s) => s.replace(/\s*\n\s*/g, ' ').trim()).filter(Boolean).join('\n') + '\n'
  const target = Number(values.mb) * 1e6
  const copies = Math.max(1, Math.ceil(target / Buffer.byteLength(once)))
  const corpusFile = path.join(root, 'corpus.txt')
  fs.writeFileSync(corpusFile, once.repeat(copies))
  const bytes = fs.statSync(corpusFile).size
  out({corpus_bytes: bytes, documents: sentences.length * copies, copies})

  let tokDir = values.tokenizer ? path.resolve(values.tokenizer) : ''
  if (!tokDir) {
    const t0 = performance.now()
    const tok = await trainTokenizer({texts: sentences.slice(0, Number(values['train-docs'])), type: values.type as 'wordpiece' | 'bpe' | 'unigram', vocabSize: Number(values.vocab)})
    tokDir = path.join(root, 'tokenizer')
    tok.save(tokDir)
    out({tokenizer: values.type, vocab: tok.vocabSize, train_s: +((performance.now() - t0) / 1000).toFixed(2)})
  }

  const params = {
    options: {
      source: {files: corpusFile},
      tokenizer: {from: tokDir},
      max_length: Number(values['max-length']),
      packing: 'pack' as const,
      eval_fraction: 0.1,
      shard_rows: 16384,
    },
    cacheDir: path.join(root, 'cache'),
    seed: 1,
    resolvePath: (p: string) => path.resolve(root, p),
    tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(root, p)}),
  }
  const t1 = performance.now()
  const built = await prepareData(params)
  const buildS = (performance.now() - t1) / 1000
  const tokens = built.manifest.train.tokens + (built.manifest.eval?.tokens ?? 0)
  out({
    phase: 'build',
    seconds: +buildS.toFixed(2),
    tokens,
    tokens_per_s: Math.round(tokens / buildS),
    mb_per_s: +(bytes / 1e6 / buildS).toFixed(2),
    sequences: built.train.rows + (built.eval?.rows ?? 0),
  })
  const t2 = performance.now()
  const hit = await prepareData(params)
  out({phase: 'cache_hit', seconds: +((performance.now() - t2) / 1000).toFixed(3), cache_hit: hit.cacheHit})
} finally {
  fs.rmSync(root, {recursive: true, force: true})
}
