/**
 * Host-side reductions of MLM logits at masked positions, for evaluation: per-token
 * cross-entropy and the top-1 prediction. Done on the host because the eval set is read back
 * anyway and [M, V] is small next to a training step. With the native addon the per-row max,
 * argmax and sum of exps run in C (native/rtd_sampling.c: the same doubles, in the same order,
 * with Math.exp's algorithm), so the numbers are the JS loop's bit for bit.
 */
import {loadNativeKernels, type NativeKernels} from '../runtime/native/load-native.js'

let rowStats: NativeKernels['logitRowStats'] | null | undefined
function nativeRowStats(): NativeKernels['logitRowStats'] | null {
  if (rowStats === undefined) {
    const loaded = loadNativeKernels()
    rowStats = loaded.ok && typeof loaded.kernels.logitRowStats === 'function' ? loaded.kernels.logitRowStats.bind(loaded.kernels) : null
  }
  return rowStats
}

/** @param impl 'js' forces the JS loop (tests compare it with the C one); default: C when built. */
export function mlmTokenStats(opts: {logits: Float32Array; rows: number; vocab: number; labels: Int32Array; impl?: 'auto' | 'js'}): {losses: Float32Array; predicted: Int32Array} {
  const {logits, rows, vocab, labels} = opts
  const losses = new Float32Array(rows)
  const predicted = new Int32Array(rows)
  const native = opts.impl === 'js' || rows < 1 || vocab < 1 || logits.length !== rows * vocab ? null : nativeRowStats()
  if (native) {
    const max = new Float64Array(rows)
    const sum = new Float64Array(rows)
    native(logits, max, predicted, sum)
    for (let r = 0; r < rows; r++) losses[r] = Math.log(sum[r]) + max[r] - logits[r * vocab + labels[r]]
    return {losses, predicted}
  }
  for (let r = 0; r < rows; r++) {
    const o = r * vocab
    let max = -Infinity
    let arg = 0
    for (let v = 0; v < vocab; v++) {
      const x = logits[o + v]
      if (x > max) {
        max = x
        arg = v
      }
    }
    let sum = 0
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[o + v] - max)
    losses[r] = Math.log(sum) + max - logits[o + labels[r]]
    predicted[r] = arg
  }
  return {losses, predicted}
}
