/**
 * RTD losses (SPEC A.6, B.7.3): L_MLM = mean cross-entropy over the masked tokens;
 * L_RTD = token-weighted mean BCE-with-logits over all non-pad tokens (Σ w·bce / Σ w).
 */
import * as tf from '@tensorflow/tfjs'

/** @param logits [M, V]; @param labels int32 [M]. Mean over the M rows. */
export function mlmLoss(opts: {logits: tf.Tensor2D; labels: tf.Tensor1D}): tf.Scalar {
  return tf.tidy(() => {
    const [, V] = opts.logits.shape
    const lse = tf.logSumExp(opts.logits, 1) // [M]
    // One-hot pick instead of a gather: its gradient is a plain product on every backend.
    const picked = tf.sum(tf.mul(opts.logits, tf.oneHot(opts.labels, V)), 1) // [M]
    return tf.mean(tf.sub(lse, picked)) as tf.Scalar
  })
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
