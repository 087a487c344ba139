/**
 * End-to-end data stage throughput: raw text -> tokenizer -> Arrow shards (tokens/s, peak RSS),
 * and the time of a cache hit. Corpus: the nlp-corpus package (100k English sentences) written
 * to a .txt file in a temp dir, repeated (streamed to disk, never held whole) until it is at
 * least --mb megabytes or --gb gigabytes. Tokenizer: a 30k WordPiece (or --type unigram|bpe)
 * trained on the 100k sentences (timed separately), or --tokenizer <folder> to load one.
 * Each build runs in its own child process, so its peak RSS (process.resourceUsage().maxRSS,
 * worker threads included) is the data stage's own; --workers lists the tokenizer thread counts
 * to compare (0 = tokenize on the main thread, the one-thread figure).
 *
 *   npx tsx bench/data-throughput.ts [--mb 5 | --gb 2] [--workers 0,2] [--vocab 30000] [--type wordpiece] [--tokenizer dir] [--max-length 128] [--built]
 * --built runs the data stage from dist/ (`npm run build` first), as the CLI does: its worker
 * threads then load JavaScript instead of compiling the TypeScript sources under tsx.
 * Prints one JSON object per line (with the load average around each build).
 * Targets: issue 4 >= 200k tokens/s, cache hit < 1 s; issue 14 (2 GB): peak RSS < 1 GB,
 * two workers >= 1.7x the one-thread tokens/s.
 */
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {corpusPackageFiles} from '../src/data/nlp-corpus.js'
import {trainTokenizer} from '../src/tokenizer/index.js'

const {values} = parseArgs({
  options: {
    mb: {type: 'string', default: '5'},
    gb: {type: 'string'},
    workers: {type: 'string', default: '0,2'},
    vocab: {type: 'string', default: '30000'},
    type: {type: 'string', default: 'wordpiece'},
    tokenizer: {type: 'string'},
    'max-length': {type: 'string', default: '128'},
    'train-docs': {type: 'string', default: '100000'},
    built: {type: 'boolean', default: false},
    // internal: one build in this (child) process
    child: {type: 'boolean', default: false},
    corpus: {type: 'string'},
    cache: {type: 'string'},
  },
})
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o))
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)))

async function buildOnce(): Promise<void> {
  const from = values.built ? '../dist/src/data' : '../src/data'
  const {prepareData} = (await import(`${from}/prepare-data.js`)) as typeof import('../src/data/prepare-data.js')
  const {defaultTokenizers} = (await import(`${from}/default-tokenizers.js`)) as typeof import('../src/data/default-tokenizers.js')
  const root = path.dirname(values.corpus!)
  const params = {
    options: {
      source: {files: values.corpus!},
      tokenizer: {from: values.tokenizer!},
      max_length: Number(values['max-length']),
      packing: 'pack' as const,
      eval_fraction: 0.1,
      shard_rows: 16384,
      workers: Number(values.workers),
    },
    cacheDir: values.cache!,
    seed: 1,
    resolvePath: (p: string) => path.resolve(root, p),
    tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(root, p)}),
  }
  const loadStart = load()
  const t1 = performance.now()
  let lastReport = t1
  // a line a minute, so a long (2 GB) run still says where it is if it is stopped
  const progress = () => ({
    update: (docs: number, extra?: Record<string, number>) => {
      const now = performance.now()
      if (now - lastReport < 60_000) return
      lastReport = now
      const tokens = extra?.tokens ?? 0
      out({phase: 'progress', workers: Number(values.workers), seconds: Math.round((now - t1) / 1000), documents: docs, tokens, tokens_per_s: Math.round(tokens / ((now - t1) / 1000)), rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), loadavg: load()})
    },
    stop: () => {},
  })
  const cpu0 = process.cpuUsage()
  const built = await prepareData({...params, progress})
  const buildS = (performance.now() - t1) / 1000
  const tokens = built.manifest.train.tokens + (built.manifest.eval?.tokens ?? 0)
  const bytes = fs.statSync(values.corpus!).size
  out({
    phase: 'build',
    workers: Number(values.workers),
    seconds: +buildS.toFixed(2),
    tokens,
    tokens_per_s: Math.round(tokens / buildS),
    mb_per_s: +(bytes / 1e6 / buildS).toFixed(2),
    sequences: built.train.rows + (built.eval?.rows ?? 0),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    // CPU seconds of every thread: what the build cost, much less sensitive to other load than wall time
    cpu_s: +((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(1),
    loadavg_start: loadStart,
    loadavg_end: load(),
  })
  const t2 = performance.now()
  const hit = await prepareData(params)
  out({phase: 'cache_hit', workers: Number(values.workers), seconds: +((performance.now() - t2) / 1000).toFixed(3), cache_hit: hit.cacheHit})
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-bench-data-'))
  try {
    const sentences = corpusPackageFiles({name: 'nlp-corpus'}).flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as string[])
    const once = Buffer.from(sentences.map((s) => s.replace(/\s*\n\s*/g, ' ').trim()).filter(Boolean).join('\n') + '\n')
    const target = values.gb ? Number(values.gb) * 1e9 : Number(values.mb) * 1e6
    const copies = Math.max(1, Math.ceil(target / once.length))
    const corpusFile = path.join(root, 'corpus.txt')
    const t0 = performance.now()
    const fd = fs.openSync(corpusFile, 'w')
    for (let i = 0; i < copies; i++) fs.writeSync(fd, once)
    fs.closeSync(fd)
    out({corpus_bytes: copies * once.length, documents: sentences.length * copies, copies, write_s: +((performance.now() - t0) / 1000).toFixed(1)})

    let tokDir = values.tokenizer ? path.resolve(values.tokenizer) : ''
    if (!tokDir) {
      const t = performance.now()
      const tok = await trainTokenizer({texts: sentences.slice(0, Number(values['train-docs'])), type: values.type as 'wordpiece' | 'bpe' | 'unigram', vocabSize: Number(values.vocab)})
      tokDir = path.join(root, 'tokenizer')
      tok.save(tokDir)
      out({tokenizer: values.type, vocab: tok.vocabSize, train_s: +((performance.now() - t) / 1000).toFixed(2)})
    }
    const self = fileURLToPath(import.meta.url)
    for (const w of values.workers.split(',')) {
      const cache = path.join(root, `cache-${w}`)
      const args = [...process.execArgv, self, '--child', '--corpus', corpusFile, '--tokenizer', tokDir, '--workers', w, '--cache', cache, '--max-length', values['max-length'], ...(values.built ? ['--built'] : [])]
      const r = spawnSync(process.execPath, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24})
      process.stdout.write(r.stdout)
      if (r.status !== 0) out({workers: Number(w), failed: r.status})
      fs.rmSync(cache, {recursive: true, force: true}) // shards of a 2 GB corpus take about as much disk again
    }
  } finally {
    fs.rmSync(root, {recursive: true, force: true})
  }
}

if (values.child) await buildOnce()
else await main()
