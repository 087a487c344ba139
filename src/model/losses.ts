/**
 * RTD losses (SPEC A.6, B.7.3): L_MLM = mean cross-entropy over the masked tokens;
 * L_RTD = token-weighted mean BCE-with-logits over all non-pad tokens (Σ w·bce / Σ w).
 */
import * as tf from '#tfjs'

/**
 * Mean cross-entropy of logits [M, V] against int32 labels [M]. The gradient is written by hand,
 * (softmax(x) - onehot(y)) / M: autodiff through logSumExp and a one-hot product would keep
 * several [M, V] temporaries alive (V = 128100 for DeBERTa-v3).
 */
export function mlmLoss(opts: {logits: tf.Tensor2D; labels: tf.Tensor1D}): tf.Scalar {
  const [M, V] = opts.logits.shape
  if (opts.labels.shape[0] !== M) throw new Error(`mlmLoss: ${M} logit rows but ${opts.labels.shape[0]} labels`)
  const labels = opts.labels
  const ce = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([x, labels]) // the labels tensor may be gone by backprop time; saved copies are kept for it
    const value = tf.tidy(() => {
      const flat = tf.add(tf.mul(tf.range(0, M, 1, 'int32'), tf.scalar(V, 'int32')), labels) // row·V + label
      const picked = tf.gather(tf.reshape(x, [M * V]), flat) // [M]
      return tf.mean(tf.sub(tf.logSumExp(x, 1), picked))
    })
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => tf.mul(tf.sub(tf.softmax(saved[0]), tf.oneHot(saved[1] as tf.Tensor1D, V)), tf.div(dy, M))),
    }
  }) as never) as (x: tf.Tensor) => tf.Scalar
  return ce(opts.logits)
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
