/**
 * Replacement sampling for RTD (SPEC A.5, B.7.2): one categorical draw per masked position from
 * softmax(logits / T), on the host with a seeded Rng, so it never enters the gradient tape and is
 * reproducible. (Argmax is not sampling.)
 */
import type {Rng} from '../util/rng.js'

/**
 * @param logits row-major [rows, vocab] float32; @param temperature T > 0 (default 1).
 * Returns the drawn ids, Int32Array [rows].
 */
export function sampleCategorical(opts: {logits: Float32Array; rows: number; vocab: number; rng: Rng; temperature?: number}): Int32Array {
  const {logits, rows, vocab, rng} = opts
  const T = opts.temperature ?? 1
  if (!(T > 0)) throw new RangeError(`sampling temperature must be > 0, got ${T}`)
  if (logits.length !== rows * vocab) throw new RangeError(`logits have ${logits.length} values, expected ${rows}·${vocab}`)
  const out = new Int32Array(rows)
  const w = new Float64Array(vocab)
  for (let r = 0; r < rows; r++) {
    const base = r * vocab
    let max = -Infinity
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v])
    let total = 0
    for (let v = 0; v < vocab; v++) {
      w[v] = Math.exp((logits[base + v] - max) / T)
      total += w[v]
    }
    let u = rng.uniform() * total
    let pick = -1
    for (let v = 0; v < vocab; v++) {
      if (w[v] === 0) continue
      pick = v // rounding can leave u >= 0 after the last term: keep the last id with mass
      u -= w[v]
      if (u < 0) break
    }
    out[r] = pick
  }
  return out
}
