import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {prepareData} from '../../../src/data/prepare-data.js'
import {documentBatches} from '../../../src/data/read-documents-file.js'
import {Rng} from '../../../src/util/rng.js'
import {buildGoldenSummaries} from './golden/make-golden-shards.js'
import {wordTokenizers} from './word-tokenizer.js'
import {spmDir, writeGoldenCorpus} from './golden/golden-cases.js'
import {defaultTokenizers} from '../../../src/data/default-tokenizers.js'
import {Interrupted} from '../../../src/errors.js'

const golden = JSON.parse(fs.readFileSync(path.resolve(fileURLToPath(import.meta.url), '../golden/golden-shards.json'), 'utf8'))

describe('streaming data stage', function () {
  this.timeout(180_000)
  let dir: string
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-stream-'))
    writeGoldenCorpus(dir)
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  // golden-shards.json: sha256 of every shard the in-memory, single-thread stage wrote from these inputs
  for (const workers of [0, 2]) {
    it(`writes the same shard bytes and cache keys as the in-memory stage (${workers === 0 ? 'on the calling thread' : `${workers} worker threads`})`, async () => {
      const lines: string[] = []
      const log = {info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warn: ${m}`), debug: (m: string) => lines.push(m)}
      const got = await buildGoldenSummaries({dir, workers, cacheDir: path.join(dir, `cache-${workers}`), log})
      // the workers really tokenized (no fallback to this thread)
      expect(lines.filter((l) => l.includes('worker thread')).length).to.equal(workers === 0 ? 0 : 5)
      expect(lines.filter((l) => l.startsWith('warn'))).to.deep.equal([])
      expect(Object.keys(got)).to.deep.equal(Object.keys(golden))
      for (const name of Object.keys(golden)) expect(got[name], name).to.deep.equal(golden[name])
    })
  }

  it('writes the same shard bytes when the workers count and read the .txt corpus in many small chunks themselves', async () => {
    const lines: string[] = []
    const log = {info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warn: ${m}`), debug: (m: string) => lines.push(m)}
    // 1000-byte chunks: lines.txt (~150 kB) is cut into ~150, most bounds inside a line
    const got = await buildGoldenSummaries({dir, workers: 2, cacheDir: path.join(dir, 'cache-chunks'), log, chunkBytes: 1000})
    // the .txt-only cases (lines.txt, blocks.txt is block mode) went through the chunk readers
    expect(lines.filter((l) => l.includes('reading their own chunks')).length).to.equal(1)
    expect(lines.filter((l) => l.startsWith('warn'))).to.deep.equal([])
    for (const name of Object.keys(golden)) expect(got[name], name).to.deep.equal(golden[name])
  })

  it('reports invalid UTF-8 in a chunk read by a worker at its byte offset in the file, like the one-thread reader', async () => {
    const bad = path.join(dir, 'bad-chunks.txt')
    const head = Buffer.from('a fine line of text\n'.repeat(300), 'utf8')
    fs.writeFileSync(bad, Buffer.concat([head, Buffer.from([0x66, 0xff, 0x0a]), head]))
    const messages: string[] = []
    for (const workers of [0, 2]) {
      const err = await prepareData({
        options: {source: {files: 'bad-chunks.txt'}, tokenizer: {from: spmDir}, max_length: 32, packing: 'pack', eval_fraction: 0.1, shard_rows: 100, workers},
        cacheDir: path.join(dir, `cache-bad-${workers}`),
        seed: 1,
        resolvePath: (p) => path.resolve(dir, p),
        tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(dir, p)}),
        chunkBytes: 512,
      }).then(() => null, (e: unknown) => e)
      messages.push((err as Error).message)
    }
    expect(messages[0]).to.contain(`invalid byte sequence at byte offset ${head.length + 1} (byte 0xff)`)
    expect(messages[1]).to.equal(messages[0])
  })
})

describe('documentBatches (streaming .txt / .jsonl reads)', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-lines-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const collect = async (file: string, txtMode: 'line' | 'block', readBytes: number, format: 'txt' | 'jsonl' = 'txt') => {
    const out: string[] = []
    for await (const b of documentBatches({file, format, column: 'text', txtMode, readBytes})) out.push(...b)
    return out
  }
  // the whole-text definitions the in-memory reader used
  const wholeText = (text: string, mode: 'line' | 'block') =>
    (mode === 'line' ? text.split(/\r?\n/) : text.split(/\r?\n[ \t]*\r?\n/)).map((d) => d.trim()).filter((d) => d.length > 0)

  it('finds the same documents as splitting the whole text, for any read size (lines and blocks, CRLF, blank lines of spaces/tabs, multi-byte characters cut by reads)', async () => {
    const rng = Rng.derive(5, 'txt-property')
    const alphabet = ['a', 'b', ' ', '\t', '\r', '\n', '\n', '\n', '\f', 'é', '東', '🙂', '\u00a0']
    for (let trial = 0; trial < 100; trial++) {
      const text = Array.from({length: rng.int(60)}, () => alphabet[rng.int(alphabet.length)]).join('')
      const file = path.join(dir, `t${trial}.txt`)
      fs.writeFileSync(file, '\ufeff' + text) // a BOM is dropped, as before
      for (const mode of ['line', 'block'] as const) {
        for (const readBytes of [1, 2, 3, 5, 64]) expect(await collect(file, mode, readBytes), `${JSON.stringify(text)} ${mode} ${readBytes}`).to.deep.equal(wholeText(text, mode))
      }
    }
  })

  it('reports invalid UTF-8 at its byte offset in the file even when it sits past the first read', async () => {
    const head = Buffer.from('fine line\n'.repeat(10) + 'é', 'utf8') // 102 bytes
    const file = path.join(dir, 'bad.txt')
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from([0x66, 0xff, 0x0a])]))
    for (const readBytes of [7, 16, 4096]) {
      const err = await collect(file, 'line', readBytes).then(() => null, (e: unknown) => e)
      expect((err as Error).message, String(readBytes)).to.contain(`${file} is not valid UTF-8: invalid byte sequence at byte offset ${head.length + 1} (byte 0xff)`)
    }
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from([0xe6, 0x9d])])) // cut off at the end
    const cut = await collect(file, 'line', 5).then(() => null, (e: unknown) => e)
    expect((cut as Error).message).to.contain(`byte offset ${head.length}`)
  })

  it('numbers .jsonl lines across reads in its errors', async () => {
    const file = path.join(dir, 'a.jsonl')
    fs.writeFileSync(file, '{"text": "one"}\n\n{"text": "two"}\n{"text": oops}\n')
    const err = await collect(file, 'line', 4, 'jsonl').then(() => null, (e: unknown) => e)
    expect((err as Error).message).to.contain(`${file}:4 is not valid JSON`)
  })

  it('trains a tokenizer on a seeded sample of the train documents when the corpus is over the bound', async () => {
    const lines = Array.from({length: 400}, (_, i) => `doc${i} some words here`)
    fs.writeFileSync(path.join(dir, 'c.txt'), lines.join('\n'))
    const chars = lines.reduce((s, l) => s + l.length, 0)
    let runs = 0
    const run = async (seed: number, sample?: number) => {
      const tokenizers = wordTokenizers()
      const d = await prepareData({
        options: {source: {files: 'c.txt'}, tokenizer: {train: {type: 'wordpiece', vocab_size: 1000}}, max_length: 16, packing: 'pack', eval_fraction: 0.25, shard_rows: 100},
        cacheDir: path.join(dir, `cache-${runs++}`),
        seed,
        resolvePath: (p) => path.resolve(dir, p),
        tokenizers,
        tokenizerSampleChars: sample,
      })
      expect(d.eval!.rows).to.be.greaterThan(0)
      return {trainedOn: tokenizers.trainedOn[0]}
    }
    const all = await run(1)
    expect(all.trainedOn).to.have.length(300) // under the bound: every train document, in order
    const a = await run(1, chars / 4)
    const b = await run(1, chars / 4)
    const c = await run(2, chars / 4)
    expect(a.trainedOn).to.deep.equal(b.trainedOn) // seeded
    expect(c.trainedOn).to.not.deep.equal(a.trainedOn)
    expect(a.trainedOn.length).to.be.within(40, 110) // about a quarter of the 300 train documents
    for (const t of a.trainedOn) expect(all.trainedOn).to.include(t) // train split only
    expect(a.trainedOn).to.deep.equal(all.trainedOn.filter((t) => a.trainedOn.includes(t))) // in source order
  })
})

describe('streaming data stage: Ctrl-C with workers', () => {
  it('stops between batches, closes the workers and leaves no cache entry', async function () {
    this.timeout(120_000)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-stream-abort-'))
    try {
      writeGoldenCorpus(dir)
      const controller = new AbortController()
      const cacheDir = path.join(dir, 'cache')
      const err = await prepareData({
        options: {source: {files: 'lines.txt'}, tokenizer: {from: spmDir}, max_length: 32, packing: 'pack', eval_fraction: 0.1, shard_rows: 100, workers: 2},
        cacheDir,
        seed: 1,
        resolvePath: (p) => path.resolve(dir, p),
        tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(dir, p)}),
        signal: controller.signal,
        progress: () => ({update: () => controller.abort(), stop: () => {}}),
      }).then(() => null, (e: unknown) => e)
      expect(err).to.be.instanceOf(Interrupted)
      expect(fs.readdirSync(path.join(cacheDir, 'shards'))).to.deep.equal([])
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})
