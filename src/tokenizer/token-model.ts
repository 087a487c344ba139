import {ConfigError} from '../errors.js'
import type {IdBuffer} from './id-buffer.js'
import type {ModelJson} from './tokenizer-json.js'

/** A tokenizer model (Unigram, WordPiece, BPE): one pre-tokenized word -> ids. */
export interface TokenModel {
  readonly kind: 'unigram' | 'wordpiece' | 'bpe'
  /** id -> token string for every id of the model (dense 0..size-1). */
  readonly idToToken: readonly string[]
  tokenToId(token: string): number | undefined
  /** Appends the ids of `word` to `out`. */
  encodeWord(word: string, out: IdBuffer): void
  toJSON(): ModelJson
}

/** Bounded memo of word -> ids: natural text repeats words, so this is most of the speed. */
export class WordCache {
  private map = new Map<string, Int32Array>()
  constructor(private readonly capacity = 200_000) {}
  get(word: string): Int32Array | undefined { return this.map.get(word) }
  set(word: string, ids: Int32Array): void {
    if (this.map.size >= this.capacity) this.map = new Map()
    this.map.set(word, ids)
  }
}

/** id -> token for a token -> id map; ids must be 0..size-1 without gaps. */
export function denseVocab(vocab: Map<string, number>, model: string): string[] {
  const out: string[] = new Array(vocab.size)
  for (const [t, id] of vocab) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab.size || out[id] !== undefined) {
      throw new ConfigError(`${model} vocab ids must be 0..${vocab.size - 1} without gaps or duplicates; "${t}" has id ${id}`, {code: 'tokenizer.invalid_model'})
    }
    out[id] = t
  }
  return out
}
