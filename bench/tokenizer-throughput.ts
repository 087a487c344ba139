/**
 * Tokenizer encode throughput (single thread) on the nlp-corpus sentences (~8.8 MB, 100k lines).
 * Prints one JSON line per tokenizer: trained 30k WordPiece, byte-level BPE and Unigram (trained on
 * the same text, training time included in the line) and the spm.model-converted Unigram (test fixture by default; pass --spm DIR_OR_FILE for another, e.g. a
 * DeBERTa-v3 spm.model). Each tokenizer starts with a cold word cache.
 *
 *   npx tsx bench/tokenizer-throughput.ts [--vocab 30000] [--spm test/fixtures/tokenizer] [--min-mb 5]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadTokenizer, trainTokenizer, type Tokenizer} from '../src/tokenizer/index.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../..')

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

function corpus(minBytes: number): {lines: string[]; bytes: number} {
  const dir = path.join(root, 'node_modules/nlp-corpus/builds')
  const base: string[] = []
  for (let i = 0; fs.existsSync(path.join(dir, `doc-${i}.json`)); i++) base.push(...(JSON.parse(fs.readFileSync(path.join(dir, `doc-${i}.json`), 'utf8')) as string[]))
  const lines: string[] = []
  let bytes = 0
  while (bytes < minBytes) for (const l of base) { lines.push(l); bytes += Buffer.byteLength(l) + 1 }
  return {lines, bytes}
}

function measure(name: string, tok: Tokenizer, lines: string[], bytes: number, extra: Record<string, unknown> = {}): void {
  const load = os.loadavg()[0]
  const t0 = performance.now()
  let tokens = 0
  for (const l of lines) tokens += tok.encode(l).length
  const seconds = (performance.now() - t0) / 1000
  console.log(JSON.stringify({
    bench: 'tokenizer-encode', tokenizer: name, kind: tok.kind, vocabSize: tok.vocabSize, lines: lines.length, mb: +(bytes / 1e6).toFixed(2),
    tokens, seconds: +seconds.toFixed(3), tokensPerSec: Math.round(tokens / seconds), mbPerSec: +(bytes / 1e6 / seconds).toFixed(2),
    loadavg1m: +load.toFixed(2), cpus: os.cpus().length, ...extra,
  }))
}

const vocab = Number(arg('vocab', '30000'))
const spm = arg('spm', path.join(root, 'test/fixtures/tokenizer'))
const {lines, bytes} = corpus(Number(arg('min-mb', '5')) * 1e6)

for (const type of ['wordpiece', 'bpe', 'unigram'] as const) {
  const t0 = performance.now()
  const tok = await trainTokenizer({texts: lines, type, vocabSize: vocab})
  const trainSeconds = +((performance.now() - t0) / 1000).toFixed(2)
  // a fresh instance from the saved files, so the word cache is cold
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-bench-tok-'))
  tok.save(dir)
  measure(`trained-${type}`, loadTokenizer({path: dir}), lines, bytes, {trainSeconds})
  fs.rmSync(dir, {recursive: true, force: true})
}
const t0 = performance.now()
const unigram = loadTokenizer({path: spm})
measure(`spm:${path.relative(root, spm) || spm}`, unigram, lines, bytes, {loadSeconds: +((performance.now() - t0) / 1000).toFixed(2)})
