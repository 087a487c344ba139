/**
 * Unigram language-model training as SentencePiece's unigram_model_trainer.cc does it:
 * seed pieces (all characters + frequent substrings scored freq * length), then rounds of
 * EM (2 sub-iterations; Bayesian M-step with digamma, pieces with expected count < 0.5 dropped)
 * followed by pruning to 75% of the pieces by the likelihood loss of replacing each piece with
 * its best alternative segmentation, until at most 1.1 * target remain; the final vocab keeps
 * the required characters and the highest-scoring pieces.
 *
 * Deviations from sentencepiece: seeds are counted over the distinct words (pieces never cross
 * whitespace, as with split_by_whitespace) instead of a suffix array, and capped at
 * min(1M, 10 * vocabSize); the loss uses each piece's own alternative count (sentencepiece's
 * code uses the size of the whole alternatives vector, a known bug that HF also fixes).
 */
import {compareStrings} from './train-bpe.js'

export interface TrainUnigramParams {
  /** Pre-tokenized words ("▁word") with their counts. */
  words: Map<string, number>
  /** Pieces to produce, not counting `specialTokens`. */
  pieceCount: number
  maxPieceLength?: number
  onProgress?: (p: {round: number; pieces: number; target: number}) => void
}

const UNK_PENALTY = 10
const SHRINKING_FACTOR = 0.75
const SUB_ITERATIONS = 2
const WS = '\u2581'

export function trainUnigram(params: TrainUnigramParams): [string, number][] {
  const {pieceCount, maxPieceLength = 16, onProgress} = params
  const words = [...params.words].sort((a, b) => compareStrings(a[0], b[0]))
  const counts = Float64Array.from(words, ([, c]) => c)
  const texts = words.map(([w]) => w)

  // Required characters, most frequent first; if they cannot all fit, the rarest go.
  const charFreq = new Map<string, number>()
  for (const [w, c] of words) for (const ch of w) charFreq.set(ch, (charFreq.get(ch) ?? 0) + c)
  const required = [...charFreq].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0])).slice(0, pieceCount)

  // Seeds: substrings (2..maxPieceLength chars, ▁ only at the start) seen at least twice.
  const subFreq = new Map<string, number>()
  for (const [w, c] of words) {
    const chars = Array.from(w)
    for (let i = 0; i < chars.length; i++) {
      let s = chars[i]
      for (let j = i + 1; j < chars.length && j - i < maxPieceLength; j++) {
        if (chars[j] === WS) break
        s += chars[j]
        subFreq.set(s, (subFreq.get(s) ?? 0) + c)
      }
    }
  }
  const seedLimit = Math.min(1_000_000, pieceCount * 10)
  const seeds = [...subFreq].filter(([, f]) => f >= 2).map(([s, f]): [string, number] => [s, f * Array.from(s).length])
    .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0])).slice(0, seedLimit)
  subFreq.clear()
  let pieces: [string, number][] = [...required, ...seeds]
  toLogProb(pieces)

  const desired = Math.floor(pieceCount * 1.1)
  for (let round = 0; ; round++) {
    for (let sub = 0; sub < SUB_ITERATIONS; sub++) {
      const lattice = new Lattice(pieces)
      const expected = new Float64Array(pieces.length)
      for (let w = 0; w < texts.length; w++) lattice.marginals(texts[w], counts[w], expected)
      pieces = mStep(pieces, expected)
    }
    onProgress?.({round, pieces: pieces.length, target: pieceCount})
    if (pieces.length <= desired) break
    pieces = prune(pieces, texts, counts, desired)
  }

  // Final: required characters (missing ones get min score minus a tiny penalty), then best scores.
  const have = new Map(pieces)
  let minScore = Infinity
  for (const [, s] of pieces) minScore = Math.min(minScore, s)
  const final = new Map<string, number>()
  let penalty = 0
  for (const [ch] of required) {
    const s = have.get(ch)
    if (s !== undefined) final.set(ch, s)
    else { final.set(ch, minScore + penalty); penalty += 0.0001 }
  }
  for (const [p, s] of sortByScore(pieces)) {
    if (final.size >= pieceCount) break
    if (!final.has(p)) final.set(p, s)
  }
  // float32 scores, as a SentencePiece model stores them
  return sortByScore([...final]).map(([p, sc]): [string, number] => [p, Math.fround(sc)])
}

function sortByScore(pieces: [string, number][]): [string, number][] {
  return [...pieces].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
}

function toLogProb(pieces: [string, number][]): void {
  let sum = 0
  for (const [, s] of pieces) sum += s
  const logSum = Math.log(sum)
  for (const p of pieces) p[1] = Math.log(p[1]) - logSum
}

function mStep(pieces: [string, number][], expected: Float64Array): [string, number][] {
  const out: [string, number][] = []
  let sum = 0
  for (let i = 0; i < pieces.length; i++) {
    if (expected[i] < 0.5) continue
    out.push([pieces[i][0], expected[i]])
    sum += expected[i]
  }
  const logSum = digamma(sum)
  for (const p of out) p[1] = digamma(p[1]) - logSum
  return out
}

function prune(pieces: [string, number][], texts: string[], counts: Float64Array, desired: number): [string, number][] {
  const lattice = new Lattice(pieces)
  const alwaysKeep = new Uint8Array(pieces.length)
  const alternatives: (number[] | undefined)[] = new Array(pieces.length)
  for (let i = 0; i < pieces.length; i++) {
    const best = lattice.viterbi(pieces[i][0], false)
    if (best.length !== 1) continue // a better segmentation exists: drop the piece
    alwaysKeep[i] = 1
    const alt = lattice.viterbi(pieces[i][0], true)
    // no alternative without unknown characters: the piece is kept without a loss
    if (alt.length > 0 && !alt.includes(-1)) alternatives[i] = alt
  }
  const freq = new Float64Array(pieces.length)
  const sentenceFreq = new Float64Array(pieces.length) // sum of counts of words whose best path uses piece i
  let vsum = 0
  for (let w = 0; w < texts.length; w++) {
    vsum += counts[w]
    const path = lattice.viterbi(texts[w], false)
    const seen = new Set<number>()
    for (const id of path) {
      if (id < 0) continue
      freq[id] += counts[w]
      if (!seen.has(id)) { seen.add(id); sentenceFreq[id] += counts[w] }
    }
  }
  let sum = 0
  for (const f of freq) sum += f
  const logSum = Math.log(sum)
  const kept: [string, number][] = []
  const candidates: [number, number][] = []
  for (let i = 0; i < pieces.length; i++) {
    if (freq[i] === 0 || !alwaysKeep[i]) continue
    const alt = alternatives[i]
    if (!alt) { kept.push(pieces[i]); continue }
    const F = sentenceFreq[i] / vsum
    const logProbSp = Math.log(freq[i]) - logSum
    const logSumAlt = Math.log(sum + freq[i] * (alt.length - 1))
    let logProbAlt = 0
    for (const n of alt) logProbAlt += Math.log(freq[n] + freq[i]) - logSumAlt
    candidates.push([i, F * (logProbSp - logProbAlt)])
  }
  const prunedSize = Math.max(desired, Math.floor(SHRINKING_FACTOR * pieces.length))
  candidates.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  for (const [i] of candidates) {
    if (kept.length >= prunedSize) break
    kept.push(pieces[i])
  }
  return kept
}

/** sentencepiece's Digamma (asymptotic series after shifting x above 7). */
function digamma(x: number): number {
  let result = 0
  for (; x < 7; ++x) result -= 1 / x
  x -= 0.5
  const xx = 1 / x
  const xx2 = xx * xx
  const xx4 = xx2 * xx2
  return result + Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4
}

/** Trie over the current pieces plus the lattice algorithms the trainer needs (per word). */
class Lattice {
  private readonly root = new Map<number, number>()
  private readonly edges = new Map<number, number>()
  private readonly nodePiece: number[] = [-1]
  private readonly scores: Float64Array
  private readonly unkScore: number
  // node list of the current word
  private begins: number[] = []
  private ends: number[] = []
  private ids: number[] = []

  constructor(pieces: [string, number][]) {
    this.scores = Float64Array.from(pieces, ([, s]) => s)
    let min = Infinity
    for (const s of this.scores) min = Math.min(min, s)
    this.unkScore = min - UNK_PENALTY
    pieces.forEach(([p], id) => {
      let node = this.root.get(p.charCodeAt(0))
      if (node === undefined) { node = this.nodePiece.length; this.nodePiece.push(-1); this.root.set(p.charCodeAt(0), node) }
      for (let k = 1; k < p.length; k++) {
        const key = node * 65536 + p.charCodeAt(k)
        let next = this.edges.get(key)
        if (next === undefined) { next = this.nodePiece.length; this.nodePiece.push(-1); this.edges.set(key, next) }
        node = next
      }
      if (this.nodePiece[node] < 0) this.nodePiece[node] = id
    })
  }

  /** Fills begins/ends/ids with every piece occurrence in `word` (id -1 = unknown char). */
  private populate(word: string, excludeWhole: boolean): void {
    this.begins.length = 0; this.ends.length = 0; this.ids.length = 0
    const n = word.length
    for (let i = 0; i < n; i++) {
      const c = word.charCodeAt(i)
      if ((c & 0xfc00) === 0xdc00 && i > 0 && (word.charCodeAt(i - 1) & 0xfc00) === 0xd800) continue // second half of a pair
      const charLen = c >= 0xd800 && c <= 0xdbff && i + 1 < n && (word.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1
      let hasSingle = false
      let node = this.root.get(c)
      let j = i + 1
      while (node !== undefined) {
        const id = this.nodePiece[node]
        if (id >= 0 && !(excludeWhole && i === 0 && j === n)) {
          this.begins.push(i); this.ends.push(j); this.ids.push(id)
          if (j - i === charLen) hasSingle = true
        }
        if (j >= n) break
        node = this.edges.get(node * 65536 + word.charCodeAt(j))
        j++
      }
      if (!hasSingle) { this.begins.push(i); this.ends.push(i + charLen); this.ids.push(-1) }
    }
  }

  private score(id: number): number { return id < 0 ? this.unkScore : this.scores[id] }

  /** Best path ids; with excludeWhole the single piece spanning the word is not allowed. */
  viterbi(word: string, excludeWhole: boolean): number[] {
    this.populate(word, excludeWhole)
    const n = word.length
    const best = new Float64Array(n + 1).fill(-Infinity)
    const back = new Int32Array(n + 1).fill(-1)
    best[0] = 0
    // nodes are ordered by begin, so best[begin] is final when a node is reached
    for (let k = 0; k < this.ids.length; k++) {
      const s = best[this.begins[k]] + this.score(this.ids[k])
      if (s > best[this.ends[k]]) { best[this.ends[k]] = s; back[this.ends[k]] = k }
    }
    if (back[n] < 0) return []
    const path: number[] = []
    for (let e = n; e > 0;) { const k = back[e]; path.push(this.ids[k]); e = this.begins[k] }
    return path.reverse()
  }

  /** Adds count * P(piece used) for every piece of `word` to `expected` (forward-backward). */
  marginals(word: string, count: number, expected: Float64Array): void {
    this.populate(word, false)
    const n = word.length
    const alpha = new Float64Array(n + 1).fill(-Infinity)
    const beta = new Float64Array(n + 1).fill(-Infinity)
    alpha[0] = 0
    beta[n] = 0
    const m = this.ids.length
    for (let k = 0; k < m; k++) alpha[this.ends[k]] = logAdd(alpha[this.ends[k]], alpha[this.begins[k]] + this.score(this.ids[k]))
    for (let k = m - 1; k >= 0; k--) beta[this.begins[k]] = logAdd(beta[this.begins[k]], beta[this.ends[k]] + this.score(this.ids[k]))
    const z = alpha[n]
    for (let k = 0; k < m; k++) {
      const id = this.ids[k]
      if (id < 0) continue
      expected[id] += count * Math.exp(alpha[this.begins[k]] + this.score(id) + beta[this.ends[k]] - z)
    }
  }
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b
  if (b === -Infinity) return a
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b))
}
