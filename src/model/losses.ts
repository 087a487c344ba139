/**
 * RTD losses (SPEC A.6, B.7.3): L_MLM = mean cross-entropy over the masked tokens;
 * L_RTD = token-weighted mean BCE-with-logits over all non-pad tokens (Σ w·bce / Σ w).
 */
import * as tf from '#tfjs'
import {mlmCrossEntropy} from '../runtime/fused-ops.js'

/**
 * Mean cross-entropy of logits [M, V] against int32 labels [M]: one fused kernel each way where
 * the backend has it (src/runtime/fused-ops.ts), else a composition with a hand-written gradient.
 */
export function mlmLoss(opts: {logits: tf.Tensor2D; labels: tf.Tensor1D}): tf.Scalar {
  const M = opts.logits.shape[0]
  if (opts.labels.shape[0] !== M) throw new Error(`mlmLoss: ${M} logit rows but ${opts.labels.shape[0]} labels`)
  return mlmCrossEntropy(opts.logits, opts.labels)
}

/**
 * BCE-with-logits per token, max(x,0) - x·y + log(1 + e^{-|x|}), averaged with weights.
 * @param logits [B, N]; @param labels float32 [B, N] in {0,1}; @param weights float32 [B, N] (attention mask).
 */
export function rtdLoss(opts: {logits: tf.Tensor; labels: tf.Tensor; weights: tf.Tensor}): tf.Scalar {
  return tf.tidy(() => {
    const x = opts.logits
    const bce = tf.add(tf.sub(tf.relu(x), tf.mul(x, opts.labels)), tf.softplus(tf.neg(tf.abs(x))))
    return tf.div(tf.sum(tf.mul(bce, opts.weights)), tf.sum(opts.weights)) as tf.Scalar
  })
}
