/**
 * Gradient accumulation over micro-batches: the sum of the micro-batch gradients divided by
 * their count, i.e. every micro-batch weighs the same (as dividing each micro-batch loss by k
 * does in torch/HF). Token weighting was rejected: L_MLM and L_RTD are normalised by
 * different token counts (masked vs non-pad), so no single weight would make the result the
 * gradient of the big batch's loss; equal weights are simple and exact when micro-batches
 * have equal token counts.
 */
import * as tf from '#tfjs'
import {exclusiveBuffer, float32View} from '../runtime/exclusive-buffer.js'

export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>()
  private n = 0

  get count(): number {
    return this.n
  }

  /** Add one micro-batch's gradients. Takes ownership: the inputs are disposed. */
  add(grads: Map<string, tf.Tensor>): void {
    for (const [name, g] of grads) {
      const prev = this.sums.get(name)
      if (prev === undefined) {
        this.sums.set(name, g)
      } else {
        // prev += g in prev's own buffer when possible (no third tensor); same float32 sums
        const own = g.dtype === 'float32' && tf.util.arraysEqual(prev.shape, g.shape) ? exclusiveBuffer(prev) : undefined
        if (own) {
          const x = own.values
          const y = float32View(g)
          for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + y[i]!)
          own.done()
        } else {
          this.sums.set(name, tf.tidy(() => prev.add(g)))
          prev.dispose()
        }
        g.dispose()
      }
    }
    this.n++
  }

  /** The mean gradient (owned by the caller); the accumulator is empty afterwards. */
  take(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>()
    for (const [name, s] of this.sums) {
      if (this.n === 1) {
        out.set(name, s)
      } else {
        out.set(name, tf.tidy(() => s.div(this.n)))
        s.dispose()
      }
    }
    this.sums = new Map()
    this.n = 0
    return out
  }

  /** Drop whatever was accumulated. */
  dispose(): void {
    for (const s of this.sums.values()) s.dispose()
    this.sums = new Map()
    this.n = 0
  }
}
