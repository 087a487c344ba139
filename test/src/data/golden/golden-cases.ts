/**
 * Inputs of the byte-identical shard check (streaming-data.test.ts): deterministic corpora in
 * every text format and the data options built from them. golden-shards.json holds what the
 * in-memory, single-thread data stage (before streaming) built from them; make-golden-shards.ts
 * wrote it and must not be rerun to "fix" a difference: a difference means the shards changed.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parquetWriteBuffer} from 'hyparquet-writer'
import type {DataOptions} from '../../../../src/data/prepare-data.js'
import {Rng} from '../../../../src/util/rng.js'

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../../..')
export const spmDir = path.join(repoRoot, 'test/fixtures/tokenizer')

const WORDS = ('the a of and to in is was film movie story actor actress plot scene good bad great terrible ' +
  'director music camera light dark house night day city river über café naïve 東京 emoji🙂 " quote, comma. period! ' +
  "don't it's 1999 42 3.14 e-mail self-made").split(' ')

/** `count` documents of 1..40 words; some blank, some padded with spaces and tabs, some multi-line. */
function documents(count: number, seed: number): string[] {
  const rng = Rng.derive(seed, 'golden-corpus')
  const docs: string[] = []
  for (let i = 0; i < count; i++) {
    const n = 1 + rng.int(40)
    const words = Array.from({length: n}, () => WORDS[rng.int(WORDS.length)])
    let d = `doc${i} ${words.join(' ')}`
    if (rng.int(10) === 0) d = `  \t${d}  `
    if (rng.int(25) === 0) d = ' '
    docs.push(d)
  }
  return docs
}

export function writeGoldenCorpus(dir: string): void {
  fs.mkdirSync(dir, {recursive: true})
  const lines = documents(3000, 1)
  // CRLF in places, a trailing line without a newline
  fs.writeFileSync(path.join(dir, 'lines.txt'), lines.map((l, i) => l + (i % 7 === 0 ? '\r\n' : '\n')).join('') + 'last line no newline')
  // blocks: paragraphs of 1-3 documents separated by blank lines of varying whitespace
  const blockDocs = documents(1200, 2)
  const seps = ['\n\n', '\n \n', '\n\t\n', '\r\n\r\n', '\n\n\n', '\n \t \r\n']
  let blocks = ''
  for (let i = 0; i < blockDocs.length; i++) blocks += blockDocs[i] + (i % 3 === 2 ? seps[i % seps.length] : '\n')
  fs.writeFileSync(path.join(dir, 'blocks.txt'), blocks)
  const jsonDocs = documents(1500, 3)
  fs.writeFileSync(path.join(dir, 'records.jsonl'), jsonDocs.map((t, i) => (i % 50 === 0 ? '\n' : '') + JSON.stringify({id: i, body: t})).join('\n') + '\n')
  fs.mkdirSync(path.join(dir, 'pq'), {recursive: true})
  for (const k of [0, 1]) {
    const texts = documents(900, 10 + k)
    const buf = parquetWriteBuffer({columnData: [{name: 'text', data: texts.map((t, i) => (i % 97 === 0 ? null : t)), type: 'STRING'}], rowGroupSize: 250})
    fs.writeFileSync(path.join(dir, 'pq', `part-${k}.parquet`), new Uint8Array(buf))
  }
  fs.writeFileSync(path.join(dir, 'all.json'), JSON.stringify(documents(400, 5).map((t) => ({text: t}))))
}

const base = {max_length: 32, packing: 'pack', eval_fraction: 0.1, shard_rows: 200} as const

export const GOLDEN_CASES: {name: string; seed: number; options: DataOptions}[] = [
  {name: 'txt-lines-spm-pack', seed: 42, options: {...base, source: {files: 'lines.txt'}, tokenizer: {from: spmDir}}},
  {name: 'txt-blocks-spm-truncate', seed: 7, options: {...base, packing: 'truncate', eval_fraction: 0.2, source: {files: 'blocks.txt', txt_mode: 'block'}, tokenizer: {from: spmDir}}},
  {name: 'jsonl-wordpiece-trained', seed: 3, options: {...base, source: {files: 'records.jsonl', column: 'body'}, tokenizer: {train: {type: 'wordpiece', vocab_size: 300}}}},
  {name: 'parquet-unigram-trained', seed: 5, options: {...base, max_length: 64, source: {files: 'pq/*.parquet'}, tokenizer: {train: {type: 'unigram', vocab_size: 200}}}},
  {name: 'mixed-bpe-trained-no-eval', seed: 9, options: {...base, eval_fraction: 0, source: {files: ['all.json', 'lines.txt']}, tokenizer: {train: {type: 'bpe', vocab_size: 400, lowercase: true}}}},
]
