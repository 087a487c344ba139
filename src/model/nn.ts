/**
 * Small functional building blocks shared by the DeBERTa components: Linear (PyTorch [out, in]
 * layout), LayerNorm (biased variance, eps from the config), exact-erf GELU, seeded dropout,
 * and the per-forward context that carries training mode, the dropout RNG and test faults.
 */
import * as tf from '#tfjs'
import type {Rng} from '../util/rng.js'
import {dropoutWithSeed, geluExact, layerNormFused} from '../runtime/fused-ops.js'

/** Deliberate bugs for tests that prove `rtd verify` catches them. Never set them in real runs. */
export const MODEL_FAULTS = ['tanh-gelu', 'no-pos-bias', 'bucket-off-by-one'] as const
export type ModelFault = (typeof MODEL_FAULTS)[number]

/** What one forward pass needs besides its inputs. */
export interface ForwardContext {
  /** Dropout on (training) or off (evaluation). */
  training: boolean
  /** Source of dropout seeds; required when training with any dropout probability > 0. */
  rng?: Rng
  /** Test-only faults (see MODEL_FAULTS). */
  faults?: readonly ModelFault[]
  /**
   * Recompute each encoder layer's activations in the backward pass instead of keeping them
   * (recompute.ts): the same results, a fraction of the memory, about one more forward of time.
   * Only matters under a gradient tape. 'alternate' recomputes every other layer (the second,
   * fourth, ...): about half the activation memory saved for half the extra time. Default false.
   */
  recompute?: Recompute
}

/** Which encoder layers recompute their activations in the backward pass (see ForwardContext). */
export type Recompute = boolean | 'alternate'

/** Whether layer `index` (0-based) recomputes under `recompute`. */
export function recomputesLayer(recompute: Recompute | undefined, index: number): boolean {
  return recompute === true || (recompute === 'alternate' && index % 2 === 1)
}

export const EVAL: ForwardContext = {training: false}

/** y = x·Wᵀ + b for x [R, in], W [out, in], b [out] → [R, out]; bias fused into the product. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  return tf.fused.matMul({a: x, b: weight as tf.Tensor2D, transposeB: true, bias}) as tf.Tensor2D
}

/** LayerNorm over the last axis: (x - μ) / sqrt(var + eps) · γ + β, biased variance. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return layerNormFused(x, gamma, beta, eps) // one fused kernel where the backend has it (fused-ops.ts)
}

/** GELU, exact erf form 0.5·x·(1 + erf(x/√2)) (HF ACT2FN["gelu"]); the tanh form only as a test fault. */
export function gelu(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  return tf.tidy(() => {
    if (ctx.faults?.includes('tanh-gelu')) {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)))
    }
    return geluExact(x) // one fused kernel where the backend has it (fused-ops.ts)
  })
}

/** Inverted dropout with a seed drawn from ctx.rng; identity when not training or rate is 0. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, ctx: ForwardContext): T {
  const seed = dropoutSeed(rate, ctx)
  if (seed === undefined) return x
  return dropoutWithSeed(x, rate, seed) // tf.dropout's numbers, fused where the backend can
}

/** The seed `dropout` draws from ctx.rng, or undefined when it is the identity (not training, or rate 0). */
export function dropoutSeed(rate: number, ctx: ForwardContext): number | undefined {
  if (!ctx.training || rate <= 0) return undefined
  if (ctx.rng === undefined) throw new Error('dropout in training mode needs ctx.rng (a seeded Rng)')
  return ctx.rng.nextUint32()
}

/** tf.tidy with the callback's own return type (tfjs types it as TensorContainer). */
export function tidy<T>(f: () => T): T {
  return tf.tidy(f as () => tf.TensorContainer) as T
}
