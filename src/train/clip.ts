/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the norm is taken over
 * all gradients together, and when it exceeds `maxNorm` every gradient is scaled by
 * maxNorm / (norm + 1e-6).
 */
import * as tf from '#tfjs'
import {exclusiveBuffer, float32View} from '../runtime/exclusive-buffer.js'
import {wasmHeap} from '../runtime/tfjs-internals.js'
import {nativeArrayUpdateKernels, nativeUpdateKernels} from '../runtime/native/native-update.js'
import {readScalars} from '../runtime/host-reads.js'

export interface ClipResult {
  /** The clipped gradients (the caller disposes them and, separately, the inputs; some may be the input tensors themselves, scaled in place). */
  grads: Map<string, tf.Tensor>
  /** Global L2 norm before clipping (NaN/Infinity when a gradient is not finite). */
  norm: number
}

/** Global L2 norm of a set of gradients, read back to the host (asynchronously: webgpu cannot read synchronously). */
export async function globalNorm(grads: Iterable<tf.Tensor>): Promise<number> {
  const list = [...grads]
  if (list.length === 0) return 0
  const native = nativeSumOfSquares(list)
  if (native !== undefined) return Math.sqrt(native)
  // one gradient at a time: a tidy over all of them held a square (and a float copy) of every
  // gradient at once, 2x the gradients' memory
  const sums = list.map((g) => tf.tidy(() => tf.sum(tf.square(g.dtype === 'float32' ? g : g.toFloat()))))
  const sq = tf.tidy(() => tf.addN(sums))
  tf.dispose(sums)
  // the step's last read: it also reports a GPU that rejected work of the step (webgpu)
  const [v] = await readScalars([sq]).finally(() => sq.dispose())
  return Math.sqrt(v!)
}


/**
 * Σ g² over all gradients with the native loop, read in place on the wasm heap, when the native
 * kernels are active and every gradient is float32 there; else undefined. Same float32 values as
 * the tfjs path with the native Sum kernel: per gradient, float32 products summed in index
 * order, then the per-gradient sums added in order as float32 (tf.addN) -- without a squared
 * copy of every gradient.
 */
function nativeSumOfSquares(list: tf.Tensor[]): number | undefined {
  const arrays = nativeArrayUpdateKernels()
  if (arrays !== undefined && tf.getBackend() === 'native' && list.every((g) => g.dtype === 'float32')) {
    // the native backend: each gradient's Σ g² in double on its own array, added in order
    let total = 0
    for (const g of list) total += arrays.sumsq(float32View(g))
    return total
  }
  const native = nativeUpdateKernels()
  const heap = native && wasmHeap()
  if (!native || !heap || list.some((g) => g.dtype !== 'float32')) return undefined
  const views = list.map((g) => float32View(g))
  if (views.some((x) => x.buffer !== heap)) return undefined
  let total = 0
  for (const x of views) total = Math.fround(total + native.sumsq(heap, x.byteOffset, x.length))
  return total
}

/**
 * Clip `grads` to global norm `maxNorm`. `maxNorm` of 0, negative or Infinity disables
 * clipping (the norm is still measured). Non-finite norms are returned as is, without scaling,
 * so the caller can stop on them. `inPlace` (default true): scale the inputs' own buffers where
 * possible (wasm, exclusive-buffer.ts; the result then holds those same tensors and the inputs'
 * values change; disposing both maps stays correct) instead of allocating a scaled copy of every
 * gradient: on deberta-v3-xsmall that copy was 0.5 GB and fragmented the wasm heap step after
 * step. Unclipped results are clones (no copy on wasm, see wasm-identity.ts).
 */
export async function clipByGlobalNorm(params: {grads: Map<string, tf.Tensor>; maxNorm: number; inPlace?: boolean}): Promise<ClipResult> {
  const inPlace = params.inPlace ?? true
  const {grads, maxNorm} = params
  const norm = await globalNorm(grads.values())
  const coef = maxNorm > 0 && Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1
  const out = new Map<string, tf.Tensor>()
  const c32 = Math.fround(coef) // the float32 scalar g.mul(coef) multiplies by: same values either way
  for (const [name, g] of grads) {
    const own = coef < 1 && inPlace ? exclusiveBuffer(g) : undefined
    if (own) {
      const x = own.values
      const native = nativeUpdateKernels()
      const arrays = nativeArrayUpdateKernels()
      if (arrays !== undefined && tf.getBackend() === 'native') arrays.scale(x, c32)
      else if (native !== undefined && x.buffer === wasmHeap()) native.scale(x.buffer as ArrayBuffer, x.byteOffset, x.length, c32)
      else for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! * c32)
      own.done()
      out.set(name, g)
    } else {
      out.set(name, coef < 1 ? tf.tidy(() => g.mul(coef)) : g.clone())
    }
  }
  return {grads: out, norm}
}
