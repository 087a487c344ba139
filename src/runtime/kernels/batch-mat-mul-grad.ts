/**
 * BatchMatMul gradient that handles broadcast batch dimensions. tfjs 4.22's gradient returns
 * the unreduced [...outBatch, r, c] product for an operand whose batch was broadcast (e.g. the
 * [nh, 2S, d] relative keys against [B, nh, N, d] queries), and backprop then fails with "The
 * gradient of input 'b' has shape ...". Here each gradient is summed over the broadcast axes.
 */
import * as tf from '#tfjs'

function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g
  // Pad the operand's batch dims on the left to the output's rank, then sum the broadcast ones.
  const padded = [...new Array<number>(g.rank - shape.length).fill(1), ...shape]
  const axes = tf.broadcast_util.getReductionAxes(padded.slice(0, -2), g.shape.slice(0, -2))
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, shape)
}

export function registerBatchMatMulGradient(): void {
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor]
      const g = dy as tf.Tensor
      const {transposeA, transposeB} = attrs as unknown as tf.BatchMatMulAttrs
      // The four cases of the stock gradient (tfjs-core gradients/BatchMatMul_grad.ts).
      let da: () => tf.Tensor
      let db: () => tf.Tensor
      if (!transposeA && !transposeB) {
        da = () => tf.matMul(g, b, false, true)
        db = () => tf.matMul(a, g, true, false)
      } else if (!transposeA && transposeB) {
        da = () => tf.matMul(g, b, false, false)
        db = () => tf.matMul(g, a, true, false)
      } else if (transposeA && !transposeB) {
        da = () => tf.matMul(b, g, false, true)
        db = () => tf.matMul(a, g, false, false)
      } else {
        da = () => tf.matMul(b, g, true, true)
        db = () => tf.matMul(g, a, true, true)
      }
      return {a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape)}
    },
  })
}
