/**
 * A tiny word-level tokenizer for data-stage tests (a test double of src/tokenizer's
 * Tokenizer: same surface, trivial model). Ids: [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3 [MASK]=4, then words.
 */
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {TokenizerProvider} from '../../../src/data/prepare-data.js'
import type {TokenizerLike} from '../../../src/data/prepared-data.js'

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']

export class WordTokenizer implements TokenizerLike {
  readonly kind = 'word'
  readonly special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
  private readonly index: Map<string, number>

  constructor(readonly words: string[]) {
    this.index = new Map([...SPECIALS, ...words].map((w, i) => [w, i]))
  }

  get vocabSize(): number {
    return SPECIALS.length + this.words.length
  }

  static train(texts: string[], vocabSize: number): WordTokenizer {
    const freq = new Map<string, number>()
    for (const t of texts) for (const w of t.toLowerCase().split(/\s+/)) if (w) freq.set(w, (freq.get(w) ?? 0) + 1)
    const words = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, vocabSize - SPECIALS.length)
    return new WordTokenizer(words.map((w) => w[0]))
  }

  encode(text: string): Int32Array {
    const ws = text.toLowerCase().split(/\s+/).filter(Boolean)
    return Int32Array.from(ws, (w) => this.index.get(w) ?? 3)
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => this.idToToken(i) ?? '[UNK]').join(' ')
  }

  idToToken(id: number): string | undefined {
    return id < SPECIALS.length ? SPECIALS[id] : this.words[id - SPECIALS.length]
  }

  fingerprint(): string {
    return createHash('sha256').update(this.words.join('\n')).digest('hex').slice(0, 16)
  }

  save(dir: string): void {
    fs.mkdirSync(dir, {recursive: true})
    fs.writeFileSync(path.join(dir, 'words.json'), JSON.stringify(this.words))
  }
}

/** Counts calls so tests can tell a cache hit (no training) from a rebuild. */
export function wordTokenizers(): TokenizerProvider & {trained: number; trainedOn: string[][]} {
  const p = {
    trained: 0,
    trainedOn: [] as string[][],
    async load({from}: {from: string}) {
      return new WordTokenizer(JSON.parse(fs.readFileSync(path.join(from, 'words.json'), 'utf8')))
    },
    async train({texts, vocabSize}: {texts: AsyncIterable<string>; vocabSize: number}) {
      p.trained++
      const all: string[] = []
      for await (const t of texts) all.push(t)
      p.trainedOn.push(all)
      return WordTokenizer.train(all, vocabSize)
    },
  }
  return p
}
