/**
 * Byte-pair encoding (HF `BPE`): split a word into symbols (chars, with the continuing-subword
 * prefix / end-of-word suffix if configured), then repeatedly apply the lowest-rank merge.
 * Results are cached per word.
 */
import {ConfigError} from '../errors.js'
import {IdBuffer} from './id-buffer.js'
import type {BpeModelJson} from './tokenizer-json.js'
import {type TokenModel, WordCache, denseVocab} from './token-model.js'

export class BpeModel implements TokenModel {
  readonly kind = 'bpe' as const
  readonly idToToken: readonly string[]
  private readonly vocab: Map<string, number>
  /** (left id * size + right id) -> rank * 2^21 ... stored as two maps for clarity */
  private readonly mergeRank = new Map<number, number>()
  private readonly mergeResult = new Map<number, number>()
  private readonly merges: [string, string][]
  private readonly unkId: number | undefined
  private readonly cache = new WordCache()
  private readonly scratch = new IdBuffer()

  constructor(readonly params: {
    vocab: Record<string, number>; merges: [string, string][]; unkToken?: string | null
    continuingSubwordPrefix?: string | null; endOfWordSuffix?: string | null; fuseUnk?: boolean; byteFallback?: boolean
  }) {
    this.vocab = new Map(Object.entries(params.vocab))
    this.idToToken = denseVocab(this.vocab, 'BPE')
    this.merges = params.merges
    const size = this.vocab.size
    const prefix = params.continuingSubwordPrefix ?? ''
    params.merges.forEach(([a, b], rank) => {
      const ia = this.vocab.get(a)
      const ib = this.vocab.get(b)
      const merged = a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b)
      const im = this.vocab.get(merged)
      if (ia === undefined || ib === undefined || im === undefined) {
        throw new ConfigError(`BPE merge #${rank} "${a} ${b}" uses a token missing from the vocab`, {code: 'tokenizer.invalid_model'})
      }
      const key = ia * size + ib
      if (!this.mergeRank.has(key)) { this.mergeRank.set(key, rank); this.mergeResult.set(key, im) }
    })
    if (params.unkToken != null) {
      this.unkId = this.vocab.get(params.unkToken)
      if (this.unkId === undefined) throw new ConfigError(`BPE unk_token "${params.unkToken}" is not in the vocab`, {code: 'tokenizer.invalid_model'})
    }
  }

  tokenToId(token: string): number | undefined { return this.vocab.get(token) }

  encodeWord(word: string, out: IdBuffer): void {
    const hit = this.cache.get(word)
    if (hit) { out.pushAll(hit); return }
    const ids = this.bpe(word)
    this.cache.set(word, ids)
    out.pushAll(ids)
  }

  private bpe(word: string): Int32Array {
    const {continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, fuseUnk, byteFallback} = this.params
    const chars = Array.from(word)
    const symbols: number[] = []
    let lastWasUnk = false
    chars.forEach((c, i) => {
      let s = c
      if (i > 0 && prefix) s = prefix + s
      if (i === chars.length - 1 && suffix) s += suffix
      const id = this.vocab.get(s)
      if (id !== undefined) { symbols.push(id); lastWasUnk = false; return }
      if (byteFallback) {
        const bytes = Buffer.from(c, 'utf8')
        const byteIds = [...bytes].map((b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`))
        if (byteIds.every((x) => x !== undefined)) { symbols.push(...(byteIds as number[])); lastWasUnk = false; return }
      }
      if (this.unkId === undefined) {
        throw new ConfigError(`BPE model has no token for "${c}" and no unk_token`, {code: 'tokenizer.encode_failed'})
      }
      if (!(fuseUnk && lastWasUnk)) symbols.push(this.unkId)
      lastWasUnk = true
    })
    const size = this.vocab.size
    // O(n^2) in symbols per word; fine because words are short and results are cached
    for (;;) {
      let bestRank = Infinity
      let bestAt = -1
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = this.mergeRank.get(symbols[i] * size + symbols[i + 1])
        if (r !== undefined && r < bestRank) { bestRank = r; bestAt = i }
      }
      if (bestAt < 0) break
      symbols.splice(bestAt, 2, this.mergeResult.get(symbols[bestAt] * size + symbols[bestAt + 1])!)
    }
    return Int32Array.from(symbols)
  }

  toJSON(): BpeModelJson {
    const p = this.params
    return {
      type: 'BPE', dropout: null, unk_token: p.unkToken ?? null, continuing_subword_prefix: p.continuingSubwordPrefix ?? null,
      end_of_word_suffix: p.endOfWordSuffix ?? null, fuse_unk: p.fuseUnk ?? false, byte_fallback: p.byteFallback ?? false,
      ignore_merges: false, vocab: Object.fromEntries(this.vocab), merges: this.merges.map(([a, b]) => [a, b]),
    }
  }
}
