/**
 * WordPiece (HF `WordPiece`): greedy longest-match-first; pieces after the first carry the
 * continuing-subword prefix ("##"). A word with no full segmentation, or longer than
 * max_input_chars_per_word characters, becomes one [UNK].
 */
import {ConfigError} from '../errors.js'
import {IdBuffer} from './id-buffer.js'
import type {WordPieceModelJson} from './tokenizer-json.js'
import {type TokenModel, WordCache, denseVocab} from './token-model.js'

export class WordPieceModel implements TokenModel {
  readonly kind = 'wordpiece' as const
  readonly idToToken: readonly string[]
  private readonly vocab: Map<string, number>
  private readonly unkId: number
  private readonly maxLen: number
  private readonly cache = new WordCache()
  private readonly scratch = new IdBuffer()

  constructor(params: {vocab: Record<string, number>; unkToken: string; prefix?: string; maxInputCharsPerWord?: number}) {
    this.vocab = new Map(Object.entries(params.vocab))
    this.idToToken = denseVocab(this.vocab, 'WordPiece')
    const unk = this.vocab.get(params.unkToken)
    if (unk === undefined) throw new ConfigError(`WordPiece unk_token "${params.unkToken}" is not in the vocab`, {code: 'tokenizer.invalid_model'})
    this.unkId = unk
    this.prefix = params.prefix ?? '##'
    this.maxLen = params.maxInputCharsPerWord ?? 100
    for (const t of this.vocab.keys()) this.longest = Math.max(this.longest, t.length)
  }

  readonly prefix: string
  private longest = 0

  tokenToId(token: string): number | undefined { return this.vocab.get(token) }

  encodeWord(word: string, out: IdBuffer): void {
    const hit = this.cache.get(word)
    if (hit) { out.pushAll(hit); return }
    const buf = this.scratch
    buf.length = 0
    let chars = 0
    for (let i = 0; i < word.length; i++) { const c = word.charCodeAt(i); if (c < 0xdc00 || c > 0xdfff) chars++ }
    if (chars > this.maxLen) buf.push(this.unkId)
    else {
      let start = 0
      while (start < word.length) {
        let end = Math.min(word.length, start + this.longest)
        let found = -1
        while (end > start) {
          const sub = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end)
          const id = this.vocab.get(sub)
          if (id !== undefined) { found = id; break }
          end--
          // never cut a surrogate pair
          if (end > start && isLowSurrogate(word.charCodeAt(end))) end--
        }
        if (found < 0) { buf.length = 0; buf.push(this.unkId); break }
        buf.push(found)
        start = end
      }
    }
    const ids = buf.take()
    this.cache.set(word, ids)
    out.pushAll(ids)
  }

  toJSON(): WordPieceModelJson {
    return {
      type: 'WordPiece', unk_token: this.idToToken[this.unkId], continuing_subword_prefix: this.prefix,
      max_input_chars_per_word: this.maxLen, vocab: Object.fromEntries(this.vocab),
    }
  }
}

function isLowSurrogate(c: number): boolean { return c >= 0xdc00 && c <= 0xdfff }
