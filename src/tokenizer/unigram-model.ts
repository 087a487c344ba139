/**
 * Unigram language-model tokenizer (SentencePiece unigram / HF `Unigram`): Viterbi over the
 * lattice of vocabulary pieces with their log-prob scores. A position no piece covers becomes
 * an unknown node scored min_score - 10 (kUnkPenalty in sentencepiece); consecutive unknowns
 * fuse into one [UNK] as sentencepiece and HF (fuse_unk) do; with byte_fallback the unknown
 * text becomes <0xXX> byte pieces instead.
 */
import {ConfigError} from '../errors.js'
import {IdBuffer} from './id-buffer.js'
import type {UnigramModelJson} from './tokenizer-json.js'
import {type TokenModel, WordCache} from './token-model.js'

const UNK_PENALTY = 10

export class UnigramModel implements TokenModel {
  readonly kind = 'unigram' as const
  readonly idToToken: readonly string[]
  private readonly scores: Float64Array
  private readonly ids = new Map<string, number>()
  private readonly unkId: number
  private readonly unkScore: number
  private readonly byteIds: Int32Array | undefined
  // Trie over UTF-16 code units: root children in a flat table, deeper edges in one Map keyed
  // by node * 65536 + code unit. nodePiece[node] = piece id ending at node, or -1.
  private readonly rootChild = new Int32Array(65536)
  private readonly edges = new Map<number, number>()
  private nodePiece: Int32Array
  private readonly cache = new WordCache()
  // Viterbi scratch, grown on demand
  private best = new Float64Array(256)
  private backPos = new Int32Array(256)
  private backId = new Int32Array(256)
  private readonly scratch = new IdBuffer()

  constructor(params: {vocab: [string, number][]; unkId: number | null; byteFallback?: boolean}) {
    const {vocab, unkId} = params
    if (unkId === null || unkId < 0 || unkId >= vocab.length) {
      throw new ConfigError(`Unigram model unk_id ${unkId} is not an id in its ${vocab.length}-piece vocab`, {code: 'tokenizer.invalid_model'})
    }
    this.idToToken = vocab.map(([p]) => p)
    this.scores = Float64Array.from(vocab, ([, s]) => s)
    this.unkId = unkId
    let minScore = Infinity
    for (const [, s] of vocab) if (s < minScore) minScore = s
    this.unkScore = minScore - UNK_PENALTY
    let nodeCount = 1
    const nodePiece: number[] = [-1]
    for (let id = 0; id < vocab.length; id++) {
      const piece = vocab[id][0]
      if (!this.ids.has(piece)) this.ids.set(piece, id)
      if (piece.length === 0) continue
      let node = this.rootChild[piece.charCodeAt(0)]
      if (node === 0) { node = nodeCount++; nodePiece.push(-1); this.rootChild[piece.charCodeAt(0)] = node }
      for (let k = 1; k < piece.length; k++) {
        const key = node * 65536 + piece.charCodeAt(k)
        let next = this.edges.get(key)
        if (next === undefined) { next = nodeCount++; nodePiece.push(-1); this.edges.set(key, next) }
        node = next
      }
      if (nodePiece[node] < 0) nodePiece[node] = id
    }
    this.nodePiece = Int32Array.from(nodePiece)
    if (params.byteFallback) {
      this.byteIds = new Int32Array(256)
      for (let b = 0; b < 256; b++) {
        const id = this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)
        if (id === undefined) throw new ConfigError(`Unigram model has byte_fallback but no piece <0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, {code: 'tokenizer.invalid_model'})
        this.byteIds[b] = id
      }
    }
  }

  tokenToId(token: string): number | undefined { return this.ids.get(token) }

  encodeWord(word: string, out: IdBuffer): void {
    const hit = this.cache.get(word)
    if (hit) { out.pushAll(hit); return }
    this.viterbi(word, this.scratch)
    const ids = this.scratch.take()
    this.cache.set(word, ids)
    out.pushAll(ids)
  }

  private viterbi(word: string, out: IdBuffer): void {
    const n = word.length
    if (n === 0) return
    if (this.best.length < n + 1) {
      const size = Math.max(n + 1, this.best.length * 2)
      this.best = new Float64Array(size)
      this.backPos = new Int32Array(size)
      this.backId = new Int32Array(size)
    }
    const {best, backPos, backId, nodePiece, scores, edges, rootChild} = this
    best[0] = 0
    for (let j = 1; j <= n; j++) best[j] = -Infinity
    for (let i = 0; i < n; i++) {
      const base = best[i]
      if (base === -Infinity) continue // inside a surrogate pair
      const c0 = word.charCodeAt(i)
      // a surrogate pair is one character; a lone surrogate is a character of its own
      const charLen = c0 >= 0xd800 && c0 <= 0xdbff && i + 1 < n && (word.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1
      let hasSingle = false
      let node = rootChild[c0]
      let j = i + 1
      while (node !== 0) {
        const id = nodePiece[node]
        if (id >= 0) {
          if (j - i === charLen) hasSingle = true
          const s = base + scores[id]
          // strict > keeps the earliest (shortest-begin) candidate on ties, like sentencepiece
          if (s > best[j]) { best[j] = s; backPos[j] = i; backId[j] = id }
        }
        if (j >= n) break
        node = edges.get(node * 65536 + word.charCodeAt(j)) ?? 0
        j++
      }
      if (!hasSingle) {
        const s = base + this.unkScore
        const e = i + charLen
        if (s > best[e]) { best[e] = s; backPos[e] = i; backId[e] = -1 }
      }
    }
    // Backtrack into a reversed list, fusing runs of unknown nodes.
    const startsRev: number[] = []
    const idsRev: number[] = []
    let e = n
    while (e > 0) {
      const b = backPos[e]
      const id = backId[e]
      if (id === -1 && idsRev.length > 0 && idsRev[idsRev.length - 1] === -1) {
        startsRev[startsRev.length - 1] = b // extend the fused unknown run
      } else { idsRev.push(id); startsRev.push(b) }
      e = b
    }
    for (let k = idsRev.length - 1; k >= 0; k--) {
      const id = idsRev[k]
      if (id !== -1) { out.push(id); continue }
      if (!this.byteIds) { out.push(this.unkId); continue }
      const end = k === 0 ? n : startsRev[k - 1]
      for (const byte of Buffer.from(word.slice(startsRev[k], end), 'utf8')) out.push(this.byteIds[byte])
    }
  }

  toJSON(): UnigramModelJson {
    return {
      type: 'Unigram', unk_id: this.unkId,
      vocab: this.idToToken.map((p, i) => [p, this.scores[i]] as [string, number]),
      byte_fallback: this.byteIds !== undefined,
    }
  }
}
