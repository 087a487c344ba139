/**
 * Sequence-classification metrics from predicted and true class indices: accuracy and
 * macro-F1 (the unweighted mean of per-class F1 over the classes that occur in the truth or
 * the predictions, as scikit-learn's f1_score(average='macro') with its default labels), and
 * the mean and spread of a metric over seeds.
 */

export interface ClassificationMetrics {
  accuracy: number
  macro_f1: number
  /** Examples scored. */
  count: number
}

/** `predicted` and `truth`: a class index per example, in [0, numClasses). */
export function classificationMetrics(p: {predicted: ArrayLike<number>; truth: ArrayLike<number>; numClasses: number}): ClassificationMetrics {
  const n = p.truth.length
  if (p.predicted.length !== n) throw new RangeError(`predicted has ${p.predicted.length} entries, truth ${n}`)
  if (n === 0) return {accuracy: 0, macro_f1: 0, count: 0}
  const tp = new Float64Array(p.numClasses)
  const predCount = new Float64Array(p.numClasses)
  const trueCount = new Float64Array(p.numClasses)
  let correct = 0
  for (let i = 0; i < n; i++) {
    const y = p.truth[i]
    const yhat = p.predicted[i]
    if (!(y >= 0 && y < p.numClasses) || !(yhat >= 0 && yhat < p.numClasses)) throw new RangeError(`class index out of range at ${i}: truth ${y}, predicted ${yhat}, classes ${p.numClasses}`)
    trueCount[y]++
    predCount[yhat]++
    if (y === yhat) {
      correct++
      tp[y]++
    }
  }
  let f1Sum = 0
  let classes = 0
  for (let c = 0; c < p.numClasses; c++) {
    if (trueCount[c] === 0 && predCount[c] === 0) continue
    classes++
    const denom = trueCount[c] + predCount[c]
    f1Sum += (2 * tp[c]) / denom // 2TP / (2TP + FP + FN) = 2TP / (true + predicted)
  }
  return {accuracy: correct / n, macro_f1: classes === 0 ? 0 : f1Sum / classes, count: n}
}

/** Mean and sample standard deviation (n − 1; 0 for a single value), min and max. */
export function meanAndSpread(values: readonly number[]): {mean: number; std: number; min: number; max: number; n: number} {
  const n = values.length
  if (n === 0) return {mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0}
  const mean = values.reduce((s, v) => s + v, 0) / n
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0
  return {mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), n}
}

/** Index of the largest logit of each row of a row-major [rows, classes] array (first on ties). */
export function argmaxRows(logits: ArrayLike<number>, classes: number): Int32Array {
  const rows = Math.floor(logits.length / classes)
  const out = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    let best = 0
    let bestValue = logits[r * classes]
    for (let c = 1; c < classes; c++) {
      const v = logits[r * classes + c]
      if (v > bestValue) {
        best = c
        bestValue = v
      }
    }
    out[r] = best
  }
  return out
}
