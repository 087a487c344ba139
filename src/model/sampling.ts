/**
 * Replacement sampling for RTD (SPEC A.5, B.7.2): one categorical draw per masked position from
 * softmax(logits / T), on the host with a seeded Rng, so it never enters the gradient tape and is
 * reproducible. (Argmax is not sampling.)
 *
 * The rows run in C when the native addon is built (native/rtd_sampling.c, threaded over rows;
 * ~10x faster than this loop, which was a tenth of the offline default's step), else in JS. Both
 * compute the same doubles in the same order with the same exp (V8's Math.exp is fdlibm's, and
 * the C file carries a copy), so the ids do not depend on which one ran.
 */
import {loadNativeKernels} from '../runtime/native/load-native.js'
import type {Rng} from '../util/rng.js'

type SampleRows = (logits: Float32Array, uniforms: Float64Array, out: Int32Array, vocab: number, temperature: number) => void

let nativeRows: SampleRows | null | undefined
function nativeSampleRows(): SampleRows | null {
  if (nativeRows === undefined) {
    const loaded = loadNativeKernels()
    nativeRows = loaded.ok && typeof loaded.kernels.sampleRows === 'function' ? loaded.kernels.sampleRows.bind(loaded.kernels) : null
  }
  return nativeRows
}

/**
 * @param logits row-major [rows, vocab] float32; @param temperature T > 0 (default 1).
 * @param impl 'js' forces the JS loop (tests compare it with the C one); default: C when built.
 * Returns the drawn ids, Int32Array [rows].
 */
export function sampleCategorical(opts: {logits: Float32Array; rows: number; vocab: number; rng: Rng; temperature?: number; impl?: 'auto' | 'js'}): Int32Array {
  const {logits, rows, vocab, rng} = opts
  const T = opts.temperature ?? 1
  if (!(T > 0)) throw new RangeError(`sampling temperature must be > 0, got ${T}`)
  if (logits.length !== rows * vocab) throw new RangeError(`logits have ${logits.length} values, expected ${rows}·${vocab}`)
  const out = new Int32Array(rows)
  // one uniform per row, in row order, whichever implementation draws
  const uniforms = new Float64Array(rows)
  for (let r = 0; r < rows; r++) uniforms[r] = rng.uniform()
  const native = opts.impl === 'js' || vocab < 1 ? null : nativeSampleRows()
  if (native !== null) {
    native(logits, uniforms, out, vocab, T)
    return out
  }
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
    let u = uniforms[r] * total
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
