/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the norm is taken over
 * all gradients together, and when it exceeds `maxNorm` every gradient is scaled by
 * maxNorm / (norm + 1e-6).
 */
import * as tf from '@tensorflow/tfjs'
import {exclusiveBuffer} from './exclusive-buffer.js'

export interface ClipResult {
  /** The clipped gradients (the caller disposes them and, separately, the inputs; some may be the input tensors themselves, scaled in place). */
  grads: Map<string, tf.Tensor>
  /** Global L2 norm before clipping (NaN/Infinity when a gradient is not finite). */
  norm: number
}

/** Global L2 norm of a set of gradients, read back to the host. */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  const list = [...grads]
  if (list.length === 0) return 0
  // one gradient at a time: a tidy over all of them held a square (and a float copy) of every
  // gradient at once, 2x the gradients' memory
  const sums = list.map((g) => tf.tidy(() => tf.sum(tf.square(g.dtype === 'float32' ? g : g.toFloat()))))
  const sq = tf.tidy(() => tf.addN(sums))
  tf.dispose(sums)
  const v = sq.dataSync()[0]
  sq.dispose()
  return Math.sqrt(v)
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
export function clipByGlobalNorm(params: {grads: Map<string, tf.Tensor>; maxNorm: number; inPlace?: boolean}): ClipResult {
  const inPlace = params.inPlace ?? true
  const {grads, maxNorm} = params
  const norm = globalNorm(grads.values())
  const coef = maxNorm > 0 && Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1
  const out = new Map<string, tf.Tensor>()
  const c32 = Math.fround(coef) // the float32 scalar g.mul(coef) multiplies by: same values either way
  for (const [name, g] of grads) {
    const own = coef < 1 && inPlace ? exclusiveBuffer(g) : undefined
    if (own) {
      const x = own.values
      for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! * c32)
      own.done()
      out.set(name, g)
    } else {
      out.set(name, coef < 1 ? tf.tidy(() => g.mul(coef)) : g.clone())
    }
  }
  return {grads: out, norm}
}
