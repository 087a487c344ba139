import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {Interrupted} from '../../../src/errors.js'
import {buildOptions} from './crash-options.js'
import {prepareData, type DataOptions, type PrepareDataParams} from '../../../src/data/prepare-data.js'
import {wordTokenizers} from './word-tokenizer.js'

/** 60 documents; document i contains the word `doc<i>` so leakage is visible in the shards. */
function corpus(): string {
  const lines: string[] = []
  for (let i = 0; i < 60; i++) lines.push(`doc${i} the quick brown fox jumps over the lazy dog number ${i % 7}`)
  return lines.join('\n') + '\n'
}

describe('prepareData', () => {
  let dir: string
  let cacheDir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-prep-'))
    cacheDir = path.join(dir, 'cache')
    fs.writeFileSync(path.join(dir, 'corpus.txt'), corpus())
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const options = (extra: Partial<DataOptions> = {}): DataOptions => ({
    source: {files: 'corpus.txt'},
    tokenizer: {train: {type: 'wordpiece', vocab_size: 200}},
    max_length: 16,
    packing: 'pack',
    eval_fraction: 0.2,
    shard_rows: 10,
    ...extra,
  })
  const params = (extra: Partial<PrepareDataParams> = {}): PrepareDataParams & {tokenizers: ReturnType<typeof wordTokenizers>} => ({
    options: options(),
    cacheDir,
    seed: 42,
    resolvePath: (p) => path.resolve(dir, p),
    tokenizers: wordTokenizers(),
    ...extra,
  }) as PrepareDataParams & {tokenizers: ReturnType<typeof wordTokenizers>}

  const decodeAll = (set: {rows: number; row(i: number): Int32Array}, tok: {decode(ids: Int32Array): string}) =>
    Array.from({length: set.rows}, (_, i) => tok.decode(set.row(i))).join(' ')

  it('writes train and eval shards of [CLS] ... [SEP] sequences with a manifest', async () => {
    const d = await prepareData(params())
    expect(d.cacheHit).to.equal(false)
    expect(d.manifest.train.documents).to.equal(48)
    expect(d.manifest.eval!.documents).to.equal(12)
    expect(d.train.rows).to.be.greaterThan(10) // more than one shard of 10 rows
    expect(d.manifest.train.shards.length).to.equal(Math.ceil(d.train.rows / 10))
    for (let i = 0; i < d.train.rows; i++) {
      const r = d.train.row(i)
      expect(r[0]).to.equal(1)
      expect(r[r.length - 1]).to.equal(2)
      expect(r.length).to.be.at.most(16)
    }
    expect(d.manifest.train.tokens).to.equal(d.train.lengths().reduce((a, b) => a + b, 0))
    expect(fs.existsSync(path.join(d.tokenizerDir, 'words.json'))).to.equal(true)
  })

  it('never puts a document in both splits, and trains the tokenizer on the train split only', async () => {
    const p = params()
    const d = await prepareData(p)
    const trainText = decodeAll(d.train, d.tokenizer)
    const evalText = decodeAll(d.eval!, d.tokenizer)
    const ids = (t: string) => new Set([...t.matchAll(/doc(\d+)/g)].map((m) => m[1]))
    const tr = ids(trainText)
    expect(tr.size).to.equal(48)
    // eval-only words are unknown to a tokenizer trained on the train split
    expect(ids(evalText).size).to.equal(0)
    expect(evalText).to.contain('[UNK]')
    expect(p.tokenizers.trainedOn[0].length).to.equal(48)
  })

  it('reuses the cache for the same inputs without reading or training again', async () => {
    const p = params()
    const first = await prepareData(p)
    const second = await prepareData({...p})
    expect(second.cacheHit).to.equal(true)
    expect(second.shardDir).to.equal(first.shardDir)
    expect(p.tokenizers.trained).to.equal(1)
    expect([...second.train.row(0)]).to.deep.equal([...first.train.row(0)])
  })

  it('rebuilds when the source content, an option or the seed changes', async () => {
    const a = await prepareData(params())
    const b = await prepareData(params({options: options({max_length: 12})}))
    const c = await prepareData(params({seed: 43}))
    fs.appendFileSync(path.join(dir, 'corpus.txt'), 'one more document\n')
    const d = await prepareData(params())
    const dirs = new Set([a.shardDir, b.shardDir, c.shardDir, d.shardDir])
    expect(dirs.size).to.equal(4)
    expect([b, c, d].every((x) => !x.cacheHit)).to.equal(true)
  })

  it('data.seed owns the split: another pipeline seed with the same data.seed keeps the held-out set and the shards', async () => {
    const evalDocs = async (p: PrepareDataParams) => {
      const d = await prepareData(p)
      // the eval split's documents, by the doc<i> word each holds (decoded with a tokenizer trained on the whole corpus)
      const seen = new Set<string>()
      for (let i = 0; i < d.eval!.rows; i++) for (const m of fullTok.decode(d.eval!.row(i)).matchAll(/doc(\d+)/g)) seen.add(m[1])
      return {d, eval: [...seen].sort().join(',')}
    }
    const {WordTokenizer} = await import('./word-tokenizer.js')
    const fullTok = WordTokenizer.train(corpus().split('\n'), 1000)
    const fixed = (seed: number, dataSeed?: number) => params({seed, tokenizers: {load: async () => fullTok, train: async () => fullTok}, options: options({tokenizer: {from: 'x'}, ...(dataSeed === undefined ? {} : {seed: dataSeed})})})
    const a = await evalDocs(fixed(42))
    const b = await evalDocs(fixed(7, 42)) // training seed changed, data seed pinned to the old one
    const c = await evalDocs(fixed(42, 7))
    expect(a.eval.split(',')).to.have.length(12)
    expect(b.eval).to.equal(a.eval)
    expect(b.d.shardDir).to.equal(a.d.shardDir) // the same cache entry: seed alone does not rebuild
    expect(b.d.cacheHit).to.equal(true)
    expect(c.eval).to.not.equal(a.eval)
    expect((await evalDocs(fixed(3))).eval).to.not.equal(a.eval) // without data.seed the pipeline seed still decides
  })

  it('never trusts a leftover temporary directory and removes it', async () => {
    const a = await prepareData(params())
    // simulate a crashed build of the same key: an unfinished tmp dir from a dead process
    fs.rmSync(a.shardDir, {recursive: true})
    const stale = `${a.shardDir}.tmp-999999`
    fs.mkdirSync(stale)
    fs.writeFileSync(path.join(stale, 'train-00000.arrow'), 'half written')
    const b = await prepareData(params())
    expect(b.cacheHit).to.equal(false)
    expect(fs.existsSync(stale)).to.equal(false)
    expect([...b.train.row(0)]).to.deep.equal([...a.train.row(0)])
  })

  it('stops cleanly on abort mid-build, leaving no cache entry', async () => {
    const ac = new AbortController()
    // abort once the first chunk of documents is tokenized (as Ctrl-C would)
    const progress = () => ({update: () => ac.abort(), stop: () => {}})
    const err = await prepareData(params({signal: ac.signal, progress})).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(Interrupted)
    const shards = fs.readdirSync(path.join(cacheDir, 'shards'))
    expect(shards).to.deep.equal([])
  })

  it('reports a damaged shard instead of reading it', async () => {
    const a = await prepareData(params())
    const f = path.join(a.shardDir, a.manifest.train.shards[0].file)
    const bytes = fs.readFileSync(f)
    bytes[bytes.length - 20] ^= 0xff
    fs.writeFileSync(f, bytes)
    const b = await prepareData(params())
    expect(() => b.train.row(0)).to.throw(/does not match its manifest hash/)
  })

  it('rebuilds a shard truncated on disk instead of reporting a cache hit, and says why', async () => {
    const a = await prepareData(params())
    const entry = a.manifest.train.shards[1]
    const f = path.join(a.shardDir, entry.file)
    expect(entry.bytes).to.equal(fs.statSync(f).size)
    const whole = fs.readFileSync(f)
    fs.truncateSync(f, whole.length - 100)
    const warnings: string[] = []
    const b = await prepareData(params({log: {info: () => {}, warn: (m) => warnings.push(m), debug: () => {}}}))
    expect(b.cacheHit).to.equal(false)
    expect(warnings.join('\n')).to.contain(`${entry.file} has ${whole.length - 100} bytes, the manifest says ${whole.length}`)
    expect(fs.readFileSync(f).equals(whole)).to.equal(true) // rebuilt byte for byte
    const c = await prepareData(params())
    expect(c.cacheHit).to.equal(true)
  })

  it('rebuilds a missing shard, and a cut-short one from a manifest without sizes (no Arrow end marker)', async () => {
    const a = await prepareData(params())
    const manifestFile = path.join(a.shardDir, 'manifest.json')
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'))
    for (const s of [...m.train.shards, ...m.eval.shards]) delete s.bytes
    fs.writeFileSync(manifestFile, JSON.stringify(m))
    expect((await prepareData(params())).cacheHit).to.equal(true) // whole files pass the end-marker check
    const f = path.join(a.shardDir, m.eval.shards[0].file)
    fs.truncateSync(f, fs.statSync(f).size - 3)
    expect((await prepareData(params())).cacheHit).to.equal(false)
    fs.rmSync(path.join(a.shardDir, a.manifest.train.shards[0].file))
    expect((await prepareData(params())).cacheHit).to.equal(false)
    expect((await prepareData(params())).cacheHit).to.equal(true)
  })

  it('keeps one document per sequence in truncate mode', async () => {
    const d = await prepareData(params({options: options({packing: 'truncate', max_length: 6})}))
    expect(d.train.rows).to.equal(48)
    expect(d.train.lengths().every((n) => n === 6)).to.equal(true)
  })

  it('does not trust the half-written build of a killed process', async function () {
    this.timeout(30_000)
    const lines = Array.from({length: 3000}, (_, i) => `line ${i} with words ${i % 13} and ${i % 17}`)
    fs.writeFileSync(path.join(dir, 'corpus.txt'), lines.join('\n'))
    const marker = path.join(dir, 'marker')
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), dir, cacheDir, marker], {stdio: 'ignore'})
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    while (!fs.existsSync(marker)) {
      if (child.exitCode !== null) throw new Error(`child exited early with ${child.exitCode}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const shardsRoot = path.join(cacheDir, 'shards')
    const tmp = fs.readdirSync(shardsRoot).filter((n) => n.endsWith(`.tmp-${child.pid}`))
    expect(tmp).to.have.length(1)
    expect(fs.readdirSync(path.join(shardsRoot, tmp[0])).some((f) => f.endsWith('.arrow'))).to.equal(true)
    child.kill('SIGKILL')
    await exited
    const d = await prepareData({options: buildOptions(), cacheDir, seed: 9, resolvePath: (p) => path.resolve(dir, p), tokenizers: wordTokenizers()})
    expect(d.cacheHit).to.equal(false)
    expect(fs.readdirSync(shardsRoot)).to.deep.equal([path.basename(d.shardDir)])
    expect(d.manifest.train.documents + d.manifest.eval!.documents).to.equal(3000)
    expect(d.train.lengths().reduce((a, b) => a + b, 0)).to.equal(d.manifest.train.tokens)
  })
})
