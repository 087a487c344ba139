/**
 * Loads the optional native addon (native/rtd_native.c, built by native/build.mjs) if present.
 * Never throws: returns why it is unavailable so the runtime can say so once.
 */
import fs from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The addon's functions; offsets are byte offsets into `heap`, strides in float32 elements. */
export interface NativeKernels {
  sgemm(heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    aOff: number, aStride: number, bOff: number, bStride: number, cOff: number): void
  transpose(heap: ArrayBuffer, xOff: number, outOff: number, shape: number[], perm: number[], bytesPerElement: number): void
  /** out[i] = expf(x[i]) over n float32 values. */
  exp(heap: ArrayBuffer, xOff: number, outOff: number, n: number): void
  /** out[j] = sum over rows of x[i][j], float32, in row order. */
  colsum(heap: ArrayBuffer, xOff: number, outOff: number, rows: number, cols: number): void
  /**
   * One AdamW update of n float32 values in place (p, m, v written; see updateInPlace in
   * src/train/adamw.ts for the operation order). Absent from addons built before it existed.
   */
  adamw?(heap: ArrayBuffer, pOff: number, gOff: number, mOff: number, vOff: number, n: number,
    c1: number, b1: number, c2: number, b2: number, sqrtBc2: number, eps: number, stepSize: number, decay: number, decays: boolean): void
  /** Sum of x[i]*x[i] over n float32 values, float32 products and accumulator in index order. Absent from older addons. */
  sumsq?(heap: ArrayBuffer, xOff: number, n: number): number
  /** x[i] = x[i] * fround(c) over n float32 values in place. Absent from older addons. */
  scale?(heap: ArrayBuffer, xOff: number, n: number, c: number): void
  /**
   * GatherV2 on x viewed as [batch, outer, dim, slice] with int32 indices [batch, nIdx]: copies
   * rows, returns -1, or the position of the first index outside [0, dim) (nothing written).
   * Absent from older addons.
   */
  gather?(heap: ArrayBuffer, xOff: number, idxOff: number, outOff: number, batch: number, outer: number, dim: number,
    slice: number, nIdx: number, bytesPerElement: number): number
  /** Slice of x [shape] from begin, size elements per dim (resolved, no -1). Absent from older addons. */
  slice?(heap: ArrayBuffer, xOff: number, outOff: number, shape: number[], begin: number[], size: number[], bytesPerElement: number): void
  setThreads(n: number): void
  blasConfig(): string

  // The native backend's kernels on TypedArrays in Node memory (native/rtd_node_kernels.c);
  // absent from addons built before it. Sizes in elements; see the C file for each contract.
  /** C_i = act(op(A_i) op(B_i) + bias), batched; act 0 linear, 1 relu, 2 relu6, 3 elu, 4 leakyrelu(alpha), 5 sigmoid, 6 gelu. */
  mm?(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    aStride: number, bStride: number, bias: Float32Array | null, act: number, alpha: number): void
  /** out = a op b with per-dimension element strides (0 = broadcast); op 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 squared difference. */
  binary?(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: number[], aStrides: number[], bStrides: number[]): void
  /** out[i] = f(x[i]) for i < n: 0 exp, 1 log, 2 neg, 3 sqrt, 4 rsqrt, 5 square, 6 abs, 7 tanh, 8 sigmoid, 9 relu, 10 erf, 11 reciprocal, 12 gelu, 13 x*c, 14 x+c, 15 floor. */
  unary?(op: number, x: Float32Array, out: Float32Array, n: number, c: number): void
  /** x as [outer, rows, inner] reduced over rows: 0 sum, 1 mean, 2 max, 3 min. */
  reduce?(op: number, x: Float32Array, out: Float32Array, outer: number, inner: number, rows: number): void
  softmax?(x: Float32Array, out: Float32Array, rows: number, cols: number): void
  transposeArray?(x: ArrayBufferView, out: ArrayBufferView, shape: number[], perm: number[]): void
  /** -1, or the position of the first index outside [0, dim) (nothing written). */
  gatherArray?(x: ArrayBufferView, indices: Int32Array, out: ArrayBufferView, batch: number, outer: number, dim: number, slice: number): number
  sliceArray?(x: ArrayBufferView, out: ArrayBufferView, shape: number[], begin: number[], size: number[]): void
  /** out (outShape) = c everywhere, x copied in at `before` per dim. */
  padArray?(x: Float32Array, out: Float32Array, shape: number[], before: number[], outShape: number[], c: number): void
  concatArrays?(inputs: ArrayBufferView[], out: ArrayBufferView, outer: number, widths: number[]): void
  segmentSum?(x: Float32Array, ids: Int32Array, out: Float32Array, numSegments: number, inner: number): void
  adamwArrays?(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c1: number, b1: number, c2: number, b2: number,
    sqrtBc2: number, eps: number, stepSize: number, decay: number, decays: boolean): void
  /** Σ x² in double. */
  sumsqArray?(x: Float32Array): number
  /** Threads for BLAS and the OpenMP loops alike. */
  setThreadsAll?(n: number): void
  /** Whether the addon was built with OpenMP. */
  openmp?(): boolean
  /** sampleCategorical's rows (native/rtd_sampling.c): out[r] = the id uniforms[r] picks from softmax(logits row r / T). */
  sampleRows?(logits: Float32Array, uniforms: Float64Array, out: Int32Array, vocab: number, temperature: number): void
  /** mlmTokenStats's rows (native/rtd_sampling.c): first max logit, its id and the sum of exp(logit - max), per row. */
  logitRowStats?(logits: Float32Array, max: Float64Array, argmax: Int32Array, sumExp: Float64Array): void
}

export type LoadNativeResult = {ok: true; kernels: NativeKernels; path: string} | {ok: false; why: string}

const ADDON_RELATIVE = path.join('native', 'build', 'Release', 'rtd_native.node')

/** Finds the addon: $RTD_NATIVE_ADDON, else native/build/Release under the package root. */
export function findNativeAddon(): string | undefined {
  const fromEnv = process.env['RTD_NATIVE_ADDON']
  if (fromEnv) return fromEnv
  // This file sits at src/runtime/native (tsx) or dist/src/runtime/native (built): walk up.
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, ADDON_RELATIVE)
    if (fs.existsSync(candidate)) return candidate
    dir = path.dirname(dir)
  }
  return undefined
}

const cache = new Map<string, LoadNativeResult>()

/** Loads the addon once per path (Node cannot unload it); never throws. */
export function loadNativeKernels(): LoadNativeResult {
  if (process.env['RTD_NATIVE'] === 'off') return {ok: false, why: 'RTD_NATIVE=off'}
  const file = findNativeAddon()
  if (file === undefined) {
    return {ok: false, why: 'addon not built (needs a C compiler and libopenblas-dev; build with `node native/build.mjs`)'}
  }
  let result = cache.get(file)
  if (result === undefined) {
    result = load(file)
    cache.set(file, result)
  }
  return result
}

function load(file: string): LoadNativeResult {
  // OpenMP threads that spin between loops would take the cores from OpenBLAS's threads (libgomp
  // reads this when the addon loads); a short spin keeps back-to-back loops cheap.
  if (process.env['OMP_WAIT_POLICY'] === undefined && process.env['GOMP_SPINCOUNT'] === undefined) process.env['GOMP_SPINCOUNT'] = '10000'
  try {
    const require = createRequire(import.meta.url)
    const kernels = require(file) as NativeKernels
    if (typeof kernels.sgemm !== 'function' || typeof kernels.transpose !== 'function' || typeof kernels.exp !== 'function' || typeof kernels.colsum !== 'function') {
      return {ok: false, why: `${file} is not the rtd native addon (rebuild with \`node native/build.mjs\`)`}
    }
    return {ok: true, kernels, path: file}
  } catch (err) {
    return {ok: false, why: `cannot load ${file}: ${(err as Error).message.split('\n')[0]}`}
  }
}

/** Whether the addon has the native backend's TypedArray kernels (an older build has only the wasm-heap ones). */
export function hasNativeBackendKernels(k: NativeKernels): boolean {
  return typeof k.mm === 'function' && typeof k.binary === 'function' && typeof k.adamwArrays === 'function' && typeof k.concatArrays === 'function' && typeof k.padArray === 'function'
}
