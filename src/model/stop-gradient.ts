/**
 * Stop-gradient for TensorFlow.js, which has no such op (tfjs#967, #7438; SPEC A.11, B.6.5).
 *
 * `withoutGradient(f)` runs `f` as the forward pass of a `tf.customGrad` node whose only input
 * is a private constant: operations run inside a kernel are not recorded on the tape, and the
 * node itself hangs off a tensor no variable depends on, so backprop never reaches whatever `f`
 * reads. The gradient to those tensors is therefore exactly zero and costs nothing (no dense
 * zeros of the embedding table's size are built). GDES uses it to read E_G in the discriminator.
 */
import * as tf from '#tfjs'

let anchor: tf.Scalar | undefined

function anchorScalar(): tf.Scalar {
  if (anchor === undefined || anchor.isDisposed) anchor = tf.keep(tf.scalar(0))
  return anchor
}

/** The value of `f()` (one tensor), cut off from the gradient tape. */
export function withoutGradient<T extends tf.Tensor>(f: () => T): T {
  // Outside a gradient scope nothing is recorded, so there is nothing to cut.
  if (!tf.engine().isTapeOn()) return tf.tidy(f)
  const op = tf.customGrad(((a: tf.Tensor) => ({
    value: tf.tidy(f),
    gradFunc: () => [tf.zerosLike(a)],
  })) as never) as (a: tf.Tensor) => T
  return op(anchorScalar()) as T
}

/** Identity in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return withoutGradient(() => x.clone())
}
