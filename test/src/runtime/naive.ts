// Naive reference implementations for the runtime kernel tests (float64 accumulation).

/** C = op(A) op(B) for row-major A [M,K] (or [K,M]) and B [K,N] (or [N,K]). */
export function naiveMatMul2d(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, ta: boolean, tb: boolean): Float64Array {
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += a[ta ? p * m + i : i * k + p]! * b[tb ? j * k + p : p * n + j]!
      out[i * n + j] = s
    }
  }
  return out
}

/** out[ids[i]] += x[i] over rows of `inner` values; ids outside [0, segments) dropped. */
export function naiveSegmentSum(x: ArrayLike<number>, ids: ArrayLike<number>, segments: number, inner: number): Float64Array {
  const out = new Float64Array(segments * inner)
  for (let s = 0; s < segments; s++) {
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== s) continue
      for (let j = 0; j < inner; j++) out[s * inner + j] += x[i * inner + j]!
    }
  }
  return out
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 31 - 1
  }
  return out
}
