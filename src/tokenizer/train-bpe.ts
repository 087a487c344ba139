/**
 * BPE merge learning over a word-count table, as HF's BpeTrainer does (also used for WordPiece,
 * whose trainer is BPE over "##"-continuation symbols). Deterministic: the most frequent pair
 * wins, ties go to the lexicographically smaller (left, right) token strings.
 *
 * Pair counts live in one Map keyed by left * vocabSize + right (a small integer for vocabularies
 * below 46,341, which V8 hashes without allocating); a max-heap holds candidate pairs
 * with the count they had when pushed. Counts of existing pairs only ever fall (a merge creates
 * pairs with the new token, never more of an old pair), so a stale heap entry is re-pushed with
 * its current count when popped (lazy update, as HF does).
 */
import {ConfigError} from '../errors.js'

export interface BpeTrainResult { vocab: string[]; merges: [string, string][] }

export interface TrainBpeParams {
  words: Map<string, number>
  vocabSize: number
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number
  /** Tokens placed first, in order (ids 0..). */
  specialTokens: string[]
  /** Symbols always in the vocab (e.g. the 256 byte-level chars), even if unseen. */
  initialAlphabet?: string[]
  /** Prefix for non-initial symbols of a word ("##" for WordPiece). */
  continuingSubwordPrefix?: string
  onProgress?: (p: {merges: number; vocab: number; target: number}) => void
}

const MAX_VOCAB = 2 ** 20

export function trainBpe(params: TrainBpeParams): BpeTrainResult {
  const {words, vocabSize, specialTokens, initialAlphabet = [], continuingSubwordPrefix: prefix = '', onProgress} = params
  const minFrequency = params.minFrequency ?? 2
  if (vocabSize >= MAX_VOCAB) throw new ConfigError(`vocab size ${vocabSize} too large; at most ${MAX_VOCAB - 1}`, {code: 'tokenizer.train_options'})
  const vocab: string[] = [...specialTokens]
  const ids = new Map<string, number>(vocab.map((t, i) => [t, i]))
  const add = (t: string): number => {
    let id = ids.get(t)
    if (id === undefined) { id = vocab.length; vocab.push(t); ids.set(t, id) }
    return id
  }

  // Alphabet: every char (and its ##-form) sorted by code point; if it does not fit, the rarest go.
  const charFreq = new Map<string, number>()
  const contFreq = new Map<string, number>()
  for (const [w, c] of words) {
    let first = true
    for (const ch of w) {
      const m = first ? charFreq : contFreq
      m.set(ch, (m.get(ch) ?? 0) + c)
      first = false
    }
  }
  for (const ch of initialAlphabet) if (!charFreq.has(ch)) charFreq.set(ch, Infinity)
  const symbols = [
    ...[...charFreq].map(([ch, f]) => ({token: ch, f})),
    ...[...contFreq].map(([ch, f]) => ({token: prefix ? prefix + ch : ch, f})),
  ]
  // merge duplicates (without a prefix, a char may be both first and continuation)
  const symbolFreq = new Map<string, number>()
  for (const s of symbols) symbolFreq.set(s.token, (symbolFreq.get(s.token) ?? 0) + s.f)
  let kept = [...symbolFreq].filter(([t]) => !ids.has(t))
  const room = vocabSize - vocab.length
  if (kept.length > room) {
    kept.sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
    kept = kept.slice(0, Math.max(0, room))
  }
  kept.sort((a, b) => compareStrings(a[0], b[0]))
  for (const [t] of kept) add(t)

  // every id stays below this, so left * stride + right is one number per pair
  const stride = Math.max(vocabSize, vocab.length)

  // Words as symbol-id arrays; -1 marks a char outside the alphabet (a barrier no pair crosses).
  // merges shorten a word in place: wordLen[w] is how much of wordSyms[w] is still used
  const wordSyms: Int32Array[] = []
  const wordLen: number[] = []
  const wordCount: number[] = []
  for (const [w, c] of words) {
    const chars = Array.from(w)
    wordSyms.push(Int32Array.from(chars, (ch, i) => ids.get(i > 0 && prefix ? prefix + ch : ch) ?? -1))
    wordLen.push(chars.length)
    wordCount.push(c)
  }

  const pairCount = new Map<number, number>()
  const where = new Map<number, number[]>()
  for (let w = 0; w < wordSyms.length; w++) {
    const s = wordSyms[w]
    for (let i = 0; i + 1 < s.length; i++) {
      if (s[i] < 0 || s[i + 1] < 0) continue
      const key = s[i] * stride + s[i + 1]
      const prev = pairCount.get(key)
      pairCount.set(key, (prev ?? 0) + wordCount[w])
      let list = where.get(key)
      if (!list) { list = []; where.set(key, list) }
      if (list[list.length - 1] !== w) list.push(w)
    }
  }

  const heap = new PairHeap(vocab, stride)
  for (const [key, count] of pairCount) if (count >= minFrequency) heap.push(key, count)

  const merges: [string, string][] = []
  const delta = new Map<number, number>()
  while (vocab.length < vocabSize && heap.size > 0) {
    const top = heap.pop()!
    const current = pairCount.get(top.key) ?? 0
    if (current !== top.count) {
      if (current >= minFrequency) heap.push(top.key, current)
      continue
    }
    if (current < minFrequency) break
    const a = Math.floor(top.key / stride)
    const b = top.key % stride
    const left = vocab[a]
    const right = vocab[b]
    const z = add(left + (prefix && right.startsWith(prefix) ? right.slice(prefix.length) : right))
    merges.push([left, right])
    delta.clear()
    for (const w of where.get(top.key) ?? []) {
      const s = wordSyms[w]
      const len = wordLen[w]
      let hit = false
      for (let i = 0; i + 1 < len; i++) if (s[i] === a && s[i + 1] === b) { hit = true; break }
      if (!hit) continue
      const c = wordCount[w]
      for (let i = 0; i + 1 < len; i++) if (s[i] >= 0 && s[i + 1] >= 0) bump(delta, s[i] * stride + s[i + 1], -c)
      // merge left to right in place (the write index never passes the read index)
      let n = 0
      for (let i = 0; i < len; i++) {
        if (i + 1 < len && s[i] === a && s[i + 1] === b) { s[n++] = z; i++ } else s[n++] = s[i]
      }
      wordLen[w] = n
      for (let i = 0; i + 1 < n; i++) {
        if (s[i] < 0 || s[i + 1] < 0) continue
        const key = s[i] * stride + s[i + 1]
        bump(delta, key, c)
        if (s[i] === z || s[i + 1] === z) {
          let list = where.get(key)
          if (!list) { list = []; where.set(key, list) }
          if (list[list.length - 1] !== w) list.push(w)
        }
      }
    }
    where.delete(top.key)
    for (const [key, d] of delta) {
      if (d === 0) continue
      const v = (pairCount.get(key) ?? 0) + d
      if (v <= 0) pairCount.delete(key)
      else pairCount.set(key, v)
      if (d > 0 && v >= minFrequency) heap.push(key, v)
    }
    if (onProgress && merges.length % 1000 === 0) onProgress({merges: merges.length, vocab: vocab.length, target: vocabSize})
  }
  return {vocab, merges}
}

function bump(m: Map<number, number>, key: number, d: number): void {
  m.set(key, (m.get(key) ?? 0) + d)
}

/** Code-point order (JS `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done) return y.done ? 0 : -1
    if (y.done) return 1
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!
    if (d !== 0) return d
  }
}

/** Max-heap on count, then lexicographically smaller (left, right). */
class PairHeap {
  private keys: number[] = []
  private counts: number[] = []
  constructor(
    private readonly vocab: string[],
    private readonly stride: number,
  ) {}
  get size(): number { return this.keys.length }

  private before(i: number, j: number): boolean {
    if (this.counts[i] !== this.counts[j]) return this.counts[i] > this.counts[j]
    const ki = this.keys[i]
    const kj = this.keys[j]
    const c = compareStrings(this.vocab[Math.floor(ki / this.stride)], this.vocab[Math.floor(kj / this.stride)])
    if (c !== 0) return c < 0
    return compareStrings(this.vocab[ki % this.stride], this.vocab[kj % this.stride]) < 0
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i]; this.keys[i] = this.keys[j]; this.keys[j] = k
    const c = this.counts[i]; this.counts[i] = this.counts[j]; this.counts[j] = c
  }

  push(key: number, count: number): void {
    this.keys.push(key)
    this.counts.push(count)
    let i = this.keys.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.before(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  pop(): {key: number; count: number} | undefined {
    if (this.keys.length === 0) return undefined
    const top = {key: this.keys[0], count: this.counts[0]}
    const lastKey = this.keys.pop()!
    const lastCount = this.counts.pop()!
    if (this.keys.length > 0) {
      this.keys[0] = lastKey
      this.counts[0] = lastCount
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.keys.length && this.before(l, m)) m = l
        if (r < this.keys.length && this.before(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}
