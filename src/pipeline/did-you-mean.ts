/**
 * "Did you mean" for unknown keys and plugin names: the candidate with the smallest
 * Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute,
 * swap two neighbours), if it is close enough to be a plausible typo.
 */

/** Optimal-string-alignment distance between a and b (case-sensitive). */
export function editDistance(a: string, b: string): number {
  const n = a.length
  const m = b.length
  // d[i][j] = distance between a[0..i) and b[0..j)
  const d: number[][] = Array.from({length: n + 1}, (_, i) => {
    const row = new Array<number>(m + 1).fill(0)
    row[0] = i
    return row
  })
  for (let j = 0; j <= m; j++) d[0][j] = j
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1)
      d[i][j] = v
    }
  }
  return d[n][m]
}

/**
 * The closest candidate to `input`, or undefined when none is within
 * max(1, floor(len/3)) edits. Case and `-`/`_` differences count as near-free, so
 * `batchSize` and `batch-size` both find `batch_size`.
 */
export function didYouMean(params: {input: string; candidates: readonly string[]}): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '')
  let best: string | undefined
  let bestScore = Number.POSITIVE_INFINITY
  for (const c of params.candidates) {
    if (c === params.input) continue
    const score = norm(c) === norm(params.input) ? 0.5 : editDistance(params.input, c)
    if (score < bestScore) {
      best = c
      bestScore = score
    }
  }
  const limit = Math.max(1, Math.floor(params.input.length / 3))
  return best !== undefined && bestScore <= limit ? best : undefined
}
