/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the norm is taken over
 * all gradients together, and when it exceeds `maxNorm` every gradient is scaled by
 * maxNorm / (norm + 1e-6).
 */
import * as tf from '@tensorflow/tfjs'

export interface ClipResult {
  /** New tensors (the caller disposes them and, separately, the inputs). */
  grads: Map<string, tf.Tensor>
  /** Global L2 norm before clipping (NaN/Infinity when a gradient is not finite). */
  norm: number
}

/** Global L2 norm of a set of gradients, read back to the host. */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  const list = [...grads]
  if (list.length === 0) return 0
  const sq = tf.tidy(() => tf.addN(list.map((g) => g.toFloat().square().sum())))
  const v = sq.dataSync()[0]
  sq.dispose()
  return Math.sqrt(v)
}

/**
 * Clip `grads` to global norm `maxNorm`. `maxNorm` of 0, negative or Infinity disables
 * clipping (the norm is still measured). Non-finite norms are returned as is, without scaling,
 * so the caller can stop on them.
 */
export function clipByGlobalNorm(params: {grads: Map<string, tf.Tensor>; maxNorm: number}): ClipResult {
  const {grads, maxNorm} = params
  const norm = globalNorm(grads.values())
  const coef = maxNorm > 0 && Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1
  const out = new Map<string, tf.Tensor>()
  for (const [name, g] of grads) out.set(name, coef < 1 ? tf.tidy(() => g.mul(coef)) : g.clone())
  return {grads: out, norm}
}
