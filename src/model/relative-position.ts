/**
 * Relative positions of DeBERTa-v2/v3 (SPEC B.2.2; HF `make_log_bucket_position`,
 * Microsoft `da_utils.py`). Buckets are exact integers computed on the CPU in float64 (JS numbers),
 * never with tensor floats: at |r| = 511 the pre-ceil value is exactly 127 and any precision
 * mismatch between the two logs would push it to bucket 256.
 */
import * as tf from '#tfjs'

export interface BucketParams {
  /** S = position_buckets; <= 0 turns bucketing off (bucket(r) = r). */
  bucketSize: number
  /** P = max relative positions (already resolved, see maxRelativePositions()). */
  maxPosition: number
  /** Test-only deliberate bug: shift every log-bucketed value by one. */
  offByOne?: boolean
}

/** bucket(r) of SPEC B.2.2 for one integer relative position r = i - j. */
export function logBucket(r: number, p: BucketParams): number {
  const {bucketSize, maxPosition} = p
  if (!(bucketSize > 0 && maxPosition > 0)) return r
  const mid = Math.floor(bucketSize / 2)
  const abs = Math.abs(r)
  if (abs <= mid) return r
  const logPos = Math.ceil((Math.log(abs / mid) / Math.log((maxPosition - 1) / mid)) * (mid - 1)) + mid
  return Math.sign(r) * (logPos + (p.offByOne ? 1 : 0))
}

/** bucket(r) for r = -(n-1) .. n-1 (index r + n - 1), as Int32Array [2n-1]. */
export function relativePositionBuckets(opts: BucketParams & {seqLen: number}): Int32Array {
  const n = opts.seqLen
  const out = new Int32Array(2 * n - 1)
  for (let k = 0; k < out.length; k++) out[k] = logBucket(k - (n - 1), opts)
  return out
}

/** δ(i, j) = clamp(bucket(i - j) + span, 0, 2·span - 1) as Int32Array [n·n] (row-major [i, j]). */
export function relativeAttentionIndex(opts: BucketParams & {seqLen: number; span: number}): Int32Array {
  const n = opts.seqLen
  const buckets = relativePositionBuckets(opts)
  const out = new Int32Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = clampIndex(buckets[i - j + n - 1] + opts.span, opts.span)
  }
  return out
}

function clampIndex(v: number, span: number): number {
  return Math.min(Math.max(v, 0), 2 * span - 1)
}

/**
 * Row indices into the relative-embedding table for the skewed c2p/p2c products of
 * disentangled-attention.ts, as int32 tensors of length 2n-1:
 * - c2p[t] = δ for r = (n-1) - t  (so that c2p[i, j] = A[i, j - i + n - 1]);
 * - p2c[t] = δ for r = t - (n-1)  (so that p2cᵀ[j, i] = C[j, i - j + n - 1]).
 */
export interface RelativeGatherIndex {
  c2p: tf.Tensor1D
  p2c: tf.Tensor1D
}

const cache = new Map<string, RelativeGatherIndex>()

/**
 * The gather indices for sequence length n, built once per (n, S, P, span) and kept (they live
 * until clearRelativePositionCache()), so a training loop uploads them once.
 */
export function relativeGatherIndex(opts: BucketParams & {seqLen: number; span: number}): RelativeGatherIndex {
  const key = `${opts.seqLen}/${opts.bucketSize}/${opts.maxPosition}/${opts.span}/${opts.offByOne ? 1 : 0}/${tf.getBackend()}`
  let hit = cache.get(key)
  if (hit === undefined) {
    const n = opts.seqLen
    const buckets = relativePositionBuckets(opts)
    const c2p = new Int32Array(2 * n - 1)
    const p2c = new Int32Array(2 * n - 1)
    for (let t = 0; t < 2 * n - 1; t++) {
      c2p[t] = clampIndex(buckets[2 * n - 2 - t] + opts.span, opts.span) // r = (n-1) - t
      p2c[t] = clampIndex(buckets[t] + opts.span, opts.span) // r = t - (n-1)
    }
    hit = tf.tidy(() => ({c2p: tf.keep(tf.tensor1d(c2p, 'int32')), p2c: tf.keep(tf.tensor1d(p2c, 'int32'))}))
    cache.set(key, hit)
  }
  return hit
}

/** Disposes the cached index tensors (e.g. before switching backends). */
export function clearRelativePositionCache(): void {
  for (const v of cache.values()) {
    v.c2p.dispose()
    v.p2c.dispose()
  }
  cache.clear()
}
