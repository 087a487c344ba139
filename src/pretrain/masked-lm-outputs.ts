/**
 * Host-side reductions of MLM logits at masked positions, for evaluation: per-token
 * cross-entropy and the top-1 prediction. Done on the host because the eval set is read back
 * anyway and [M, V] is small next to a training step.
 */
export function mlmTokenStats(opts: {logits: Float32Array; rows: number; vocab: number; labels: Int32Array}): {losses: Float32Array; predicted: Int32Array} {
  const {logits, rows, vocab, labels} = opts
  const losses = new Float32Array(rows)
  const predicted = new Int32Array(rows)
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
