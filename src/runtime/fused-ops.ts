/**
 * Model operations that a backend may run as one fused kernel: exact-erf GELU and LayerNorm
 * (forward and gradient each), the dropout multiplier, disentangled attention's
 * probabilities (the c2p/p2c skews, the key mask, softmax and dropout; forward and gradient),
 * and the MLM loss's mean cross-entropy (forward and gradient). A backend that registers the kernel names below (the
 * `native` backend does, src/runtime/native-backend/native-kernels.ts) gets one pass over the
 * activations instead of a chain of elementwise kernels; every other backend runs the
 * TensorFlow.js composition. The fused kernels compute the composition's float32 operations in
 * the same order, so both give the same numbers (to float32 rounding of erf and exp).
 */
import * as tf from '#tfjs'

/** gelu(x): 0.5·x·(1 + erf(x·√½)); gradient: GELU_GRAD_KERNEL. */
export const GELU_KERNEL = 'RtdGelu'
/** geluGrad(dy, x): dy times gelu's derivative at x, as autodiff through the composition computes it. */
export const GELU_GRAD_KERNEL = 'RtdGeluGrad'
/** dropoutMultiplier(): floor(u + keep) / keep for tf.randomUniform's u with seed `seed` (attrs shape, keepProb, seed). */
export const DROPOUT_MULTIPLIER_KERNEL = 'RtdDropoutMultiplier'
/** dropout(x) -> [x·multiplier, keep flags (bool)] for DROPOUT_MULTIPLIER_KERNEL's multiplier (attrs keepProb, seed). */
export const DROPOUT_KERNEL = 'RtdDropout'
/** dropoutGrad(dy, keep) -> dy·keep/keepProb (attrs keepProb). */
export const DROPOUT_GRAD_KERNEL = 'RtdDropoutGrad'

/** layerNorm(x, gamma, beta) over the last axis (attrs eps); gradient: LAYER_NORM_GRAD_KERNEL. */
export const LAYER_NORM_KERNEL = 'RtdLayerNorm'
/** layerNormGrad(dy, x, gamma) -> [dx, dgamma, dbeta] (attrs eps). */
export const LAYER_NORM_GRAD_KERNEL = 'RtdLayerNormGrad'

/** attentionProbs (below): probs [, y, keep] from c2c, mask, c2p?, p2c? (attrs keepProb, seed, maskRows). */
export const ATTENTION_PROBS_KERNEL = 'RtdAttentionProbs'
/** attentionProbs's gradient: dy, y [, keep] -> [dc2c, dc2p?, dp2c?] (attrs keepProb, c2p, p2c). */
export const ATTENTION_PROBS_GRAD_KERNEL = 'RtdAttentionProbsGrad'

/** mlmCrossEntropy (below): logits [M, V], int32 labels [M] -> the mean cross-entropy, a float32 scalar. */
export const MLM_CROSS_ENTROPY_KERNEL = 'RtdMlmCrossEntropy'
/** Its gradient: dy (scalar), logits, labels -> (softmax(logits) - onehot(labels))·dy/M. */
export const MLM_CROSS_ENTROPY_GRAD_KERNEL = 'RtdMlmCrossEntropyGrad'

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined
}

let gradientsRegistered = false

function registerGradients(): void {
  if (gradientsRegistered) return
  gradientsRegistered = true
  tf.registerGradient({
    kernelName: LAYER_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma] = saved as [tf.Tensor, tf.Tensor]
      const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, {dy: dy as tf.Tensor, x, gamma}, attrs) as tf.Tensor[]
      return {x: () => dx!, gamma: () => dgamma!, beta: () => dbeta!}
    },
  })
  tf.registerGradient({
    kernelName: GELU_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor]
      return {x: () => tf.engine().runKernel(GELU_GRAD_KERNEL, {dy: dy as tf.Tensor, x}) as tf.Tensor}
    },
  })
}

/** The composition GELU_KERNEL fuses. */
export function geluComposition(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))))
}

/** Exact-erf GELU: the fused kernel where the backend has it, else the composition. */
export function geluExact(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32' || !hasKernel(GELU_KERNEL)) return geluComposition(x)
  registerGradients()
  return tf.engine().runKernel(GELU_KERNEL, {x}) as tf.Tensor
}

/** The composition LAYER_NORM_KERNEL fuses: (x - μ) / sqrt(var + eps) · γ + β over the last axis, biased variance. */
export function layerNormComposition(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true)
    const centered = tf.sub(x, mean)
    const variance = tf.mean(tf.square(centered), -1, true)
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta)
  })
}

/** LayerNorm over the last axis with γ and β of its size: the fused kernel where the backend has it, else the composition. */
export function layerNormFused(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const cols = x.shape[x.shape.length - 1]
  const fits = x.rank >= 1 && gamma.rank === 1 && beta.rank === 1 && gamma.shape[0] === cols && beta.shape[0] === cols
  if (!fits || [x, gamma, beta].some((t) => t.dtype !== 'float32') || !hasKernel(LAYER_NORM_KERNEL)) return layerNormComposition(x, gamma, beta, eps)
  registerGradients()
  return tf.engine().runKernel(LAYER_NORM_KERNEL, {x, gamma, beta}, {eps}) as tf.Tensor
}

/** The composition DROPOUT_MULTIPLIER_KERNEL fuses (what tf.dropout multiplies x by). */
export function dropoutMultiplierComposition(shape: number[], keepProb: number, seed: number): tf.Tensor {
  return tf.tidy(() => tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), keepProb)), keepProb))
}

/**
 * tf.dropout(x, rate, undefined, seed), bit for bit: x times the multiplier, made by the fused
 * kernel where the backend has it.
 */
export function dropoutWithSeed<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (x.dtype !== 'float32' || !hasKernel(DROPOUT_MULTIPLIER_KERNEL)) return tf.dropout(x, rate, undefined, seed) as T
  const keepProb = 1 - rate
  if (hasKernel(DROPOUT_KERNEL)) {
    // one pass; the backward pass keeps the flags as bytes, not a float multiplier and x (Multiply's)
    const op = tf.customGrad(((input: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
      const [out, keep] = tf.engine().runKernel(DROPOUT_KERNEL, {x: input}, {keepProb, seed}) as tf.Tensor[]
      save([keep!])
      return {
        value: out!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(DROPOUT_GRAD_KERNEL, {dy, keep: saved[0]!}, {keepProb}) as tf.Tensor,
      }
    }) as never) as (input: tf.Tensor) => T
    return op(x)
  }
  return tf.tidy(() => {
    const multiplier = tf.engine().runKernel(DROPOUT_MULTIPLIER_KERNEL, {}, {shape: x.shape, keepProb, seed} as unknown as tf.NamedAttrMap) as tf.Tensor
    return tf.mul(x, multiplier) as T
  })
}

/**
 * The state of seedrandom's Alea generator (what tf.randomUniform draws from) after seeding
 * with String(seed): {c, s0, s1, s2}. Baagoe's Mash, as seedrandom 3 computes it.
 */
export function aleaState(seed: number | string): {c: number; s0: number; s1: number; s2: number} {
  let n = 0xefc8249d
  const mash = (data: string): number => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i)
      let h = 0.02519603282416938 * n
      n = h >>> 0
      h -= n
      h *= n
      n = h >>> 0
      h -= n
      n += h * 0x100000000
    }
    return (n >>> 0) * 2.3283064365386963e-10
  }
  let s0 = mash(' ')
  let s1 = mash(' ')
  let s2 = mash(' ')
  const key = String(seed)
  s0 -= mash(key)
  if (s0 < 0) s0 += 1
  s1 -= mash(key)
  if (s1 < 0) s1 += 1
  s2 -= mash(key)
  if (s2 < 0) s2 += 1
  return {c: 1, s0, s1, s2}
}

/**
 * Relative shift: out[x, i, j] = a[x, i, j - i + n - 1] for a [X, n, 2n-1] → [X, n, n].
 * Row i of the result starts at flat offset (n-1) + i·(2n-2) of a's row-major [n·(2n-1)] block.
 */
export function skew(a: tf.Tensor3D): tf.Tensor3D {
  const [X, n, w] = a.shape
  if (w !== 2 * n - 1) throw new Error(`skew needs [X, n, 2n-1], got ${JSON.stringify(a.shape)}`)
  if (n === 1) return a.clone() as tf.Tensor3D
  return tf.tidy(() => {
    const flat = tf.reshape(a, [X, n * w]) // [X, n(2n-1)]
    const shifted = tf.slice(flat, [0, n - 1], [X, n * (2 * n - 2)]) // [X, n(2n-2)]
    return tf.slice(tf.reshape(shifted, [X, n, 2 * n - 2]) as tf.Tensor3D, [0, 0, 0], [X, n, n]) // [X, n, n]
  })
}

/** The score terms of disentangled attention for X = heads·batch blocks of N queries × N keys. */
export interface AttentionScoreTerms {
  /** Content to content, Q·Kᵀ [X, N, N]. */
  c2c: tf.Tensor3D
  /** Content to position before the skew, [X, N, 2N-1]: c2p[x, i, j] = c2p[x, i, j - i + N - 1]. */
  c2p?: tf.Tensor3D
  /** Position to content before the skew, [X, N(key j), 2N-1]: p2c[x, i, j] = p2c[x, j, i - j + N - 1]. */
  p2c?: tf.Tensor3D
  /** Additive key mask [1, B, 1, N] (0 at tokens, a large negative at pads), X = heads·B. */
  maskBias: tf.Tensor
  heads: number
}

/** The composition ATTENTION_PROBS_KERNEL fuses: dropout(softmax(c2c + skew(c2p) + skew(p2c)ᵀ + mask)) → [X, N, N]. */
export function attentionProbsComposition(t: AttentionScoreTerms, rate: number, seed?: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [X, N] = t.c2c.shape
    let scores: tf.Tensor3D = t.c2c
    if (t.c2p) scores = tf.add(scores, skew(t.c2p))
    if (t.p2c) scores = tf.add(scores, tf.transpose(skew(t.p2c), [0, 2, 1]))
    const masked = tf.add(tf.reshape(scores, [t.heads, X / t.heads, N, N]), t.maskBias)
    let probs = tf.softmax(masked)
    if (seed !== undefined) probs = dropoutWithSeed(probs, rate, seed)
    return tf.reshape(probs, [X, N, N])
  })
}

/**
 * Disentangled attention's probabilities, dropout (with `seed`; none when undefined) included:
 * one fused kernel each way where the backend has it (no skewed copies, no separate mask add,
 * softmax, dropout multiplier and Multiply), else the composition. Same numbers either way.
 */
export function attentionProbs(t: AttentionScoreTerms, rate: number, seed?: number): tf.Tensor3D {
  const [X, N] = t.c2c.shape
  const B = X / t.heads
  const band = [X, N, 2 * N - 1]
  const present = [t.c2c, t.maskBias, t.c2p, t.p2c].filter((x): x is tf.Tensor => x !== undefined)
  const fits = Number.isInteger(B) && t.c2c.shape[2] === N && tf.util.arraysEqual(t.maskBias.shape, [1, B, 1, N]) &&
    [t.c2p, t.p2c].every((x) => x === undefined || tf.util.arraysEqual(x.shape, band))
  if (!fits || present.some((x) => x.dtype !== 'float32') || !hasKernel(ATTENTION_PROBS_KERNEL)) return attentionProbsComposition(t, rate, seed)
  const keepProb = seed === undefined ? 1 : 1 - rate
  const hasC2p = t.c2p !== undefined
  const hasP2c = t.p2c !== undefined
  const maskShape = t.maskBias.shape
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (ts: tf.Tensor[]) => void
    const [c2c, mask, ...rel] = args as tf.Tensor[]
    const inputs: tf.NamedTensorMap = {c2c: c2c!, mask: mask!}
    if (hasC2p) inputs.c2p = rel.shift()!
    if (hasP2c) inputs.p2c = rel.shift()!
    const outs = tf.engine().runKernel(ATTENTION_PROBS_KERNEL, inputs, {keepProb, seed: seed ?? 0, maskRows: B}) as tf.Tensor | tf.Tensor[]
    const [probs, y, keep] = Array.isArray(outs) ? outs : [outs]
    save(keep === undefined ? [probs!] : [y!, keep])
    return {
      value: probs!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, ks] = saved
        const grads = tf.engine().runKernel(ATTENTION_PROBS_GRAD_KERNEL, ks === undefined ? {dy, y: ys!} : {dy, y: ys!, keep: ks}, {keepProb, c2p: hasC2p, p2c: hasP2c}) as tf.Tensor[]
        return [grads[0]!, tf.zeros(maskShape), ...grads.slice(1)] // the mask is a constant
      },
    }
  }) as never) as (...xs: tf.Tensor[]) => tf.Tensor3D
  return op(...present)
}

/**
 * The composition MLM_CROSS_ENTROPY_KERNEL fuses: mean over rows of logSumExp(x) - x[label], with
 * the gradient written by hand, (softmax(x) - onehot(y)) / M: autodiff through logSumExp and a
 * one-hot product would keep several [M, V] temporaries alive (V = 128100 for DeBERTa-v3).
 */
export function mlmCrossEntropyComposition(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [M, V] = logits.shape
  const ce = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([x, labels]) // the labels tensor may be gone by backprop time; saved copies are kept for it
    const value = tf.tidy(() => {
      const flat = tf.add(tf.mul(tf.range(0, M, 1, 'int32'), tf.scalar(V, 'int32')), labels) // row·V + label
      const picked = tf.gather(tf.reshape(x, [M * V]), flat) // [M]
      return tf.mean(tf.sub(tf.logSumExp(x, 1), picked))
    })
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => tf.mul(tf.sub(tf.softmax(saved[0]!), tf.oneHot(saved[1] as tf.Tensor1D, V)), tf.div(dy, M))),
    }
  }) as never) as (x: tf.Tensor) => tf.Scalar
  return ce(logits)
}

/**
 * Mean cross-entropy of logits [M, V] against int32 labels [M] (M >= 1): one pass over the
 * logits each way where the backend has the kernels (no [M, V] temporaries but the gradient),
 * else the composition; the same float32 numbers either way.
 */
export function mlmCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (logits.dtype !== 'float32' || labels.dtype !== 'int32' || logits.shape[0] === 0 || !hasKernel(MLM_CROSS_ENTROPY_KERNEL)) return mlmCrossEntropyComposition(logits, labels)
  const ce = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([x, labels])
    return {
      value: tf.engine().runKernel(MLM_CROSS_ENTROPY_KERNEL, {logits: x, labels}) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(MLM_CROSS_ENTROPY_GRAD_KERNEL, {dy, logits: saved[0]!, labels: saved[1]!}) as tf.Tensor,
    }
  }) as never) as (x: tf.Tensor) => tf.Scalar
  return ce(logits)
}
