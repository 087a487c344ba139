/**
 * One gradient for a word table that is read twice, by the embedding lookup and by the tied MLM
 * decoder (E_G in the generator).
 *
 * tfjs differentiates each use separately: the decoder gives a dense [V, emb] dW, the lookup a
 * dense [V, emb] UnsortedSegmentSum, and their sum is a third; the lookup's part stays alive
 * until the backward pass ends (3 x 197 MB for deberta-v3). Here the decoder's dW is handed to
 * the lookup instead (the decoder is a customGrad that does not take the table as an input):
 * the lookup comes first in the forward pass, so its gradient runs last, adds its rows into
 * that dW (in place when the buffer is exclusive, exclusive-buffer.ts) and returns it as the
 * table's only gradient. The sums are those of tfjs's path: dW + (the rows of each id summed in
 * row order), in float32.
 */
import * as tf from '#tfjs'
import {exclusiveBuffer, float32View} from '../runtime/exclusive-buffer.js'
import {gatherRows} from './embeddings.js'

export class TiedTable {
  /** The decoder's dW, waiting for the lookup's gradient. */
  private pending?: tf.Tensor
  /** A tied lookup is on the current tape and will collect `pending`. */
  private armed = false

  constructor(readonly table: tf.Variable) {}

  /** Rows `ids` of the table [K] → [K, emb]; its gradient also carries the decoder's dW. */
  lookup(ids: tf.Tensor1D): tf.Tensor2D {
    this.reset()
    if (!tf.engine().isTapeOn()) return gatherRows(this.table, ids)
    const [V, E] = this.table.shape as [number, number]
    this.armed = true
    const op = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
      save([ids])
      return {
        value: tf.gather(x, ids),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const dW = this.pending
          this.pending = undefined
          this.armed = false
          if (dW === undefined) return [tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, V)]
          return [addRows(dW, dy as tf.Tensor2D, saved[0] as tf.Tensor1D, V, E)]
        },
      }
    }) as never) as (x: tf.Tensor) => tf.Tensor2D
    return op(this.table)
  }

  /** logits = t·tableᵀ + bias, [M, emb] → [M, V]; the table's gradient goes to the lookup. */
  decode(t: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
    const table = this.table
    if (!this.armed || !tf.engine().isTapeOn()) return tf.fused.matMul({a: t, b: table as tf.Tensor2D, transposeB: true, bias}) as tf.Tensor2D
    const op = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor1D, save: (t: tf.Tensor[]) => void) => {
      save([a])
      return {
        value: tf.fused.matMul({a, b: table as tf.Tensor2D, transposeB: true, bias: b}),
        // the gradients of tfjs's fused matmul (transposeB) with a linear activation
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const dW = tf.matMul(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, true, false) // [V, emb]
          // Not kept: if no lookup gradient collects it, the backward pass's scope frees it.
          if (this.pending === undefined || this.pending.isDisposed) this.pending = dW
          else {
            const sum = tf.add(this.pending, dW)
            tf.dispose([this.pending, dW])
            this.pending = sum
          }
          return [tf.matMul(dy as tf.Tensor2D, table as tf.Tensor2D, false, false), tf.reshape(tf.sum(dy, 0), b.shape)]
        },
      }
    }) as never) as (a: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D
    return op(t, bias)
  }

  /** Forgets a dW no lookup gradient collected (the backward pass's scope has freed it). */
  reset(): void {
    this.pending = undefined
    this.armed = false
  }
}

/** dW + UnsortedSegmentSum(dy, ids, V): in dW's buffer when it is exclusive, else a new tensor. */
function addRows(dW: tf.Tensor, dy: tf.Tensor2D, ids: tf.Tensor1D, V: number, E: number): tf.Tensor {
  const own = exclusiveBuffer(dW)
  if (own === undefined) {
    const sum = tf.add(dW, tf.unsortedSegmentSum(dy, ids, V))
    dW.dispose()
    return sum
  }
  // rows of one id summed first, in row order from 0 (as the segment sum kernel does), then added
  const idx = ids.dataSync()
  const rows = float32View(dy)
  const sums = new Map<number, Float32Array>()
  for (let k = 0; k < idx.length; k++) {
    const id = idx[k]!
    if (id < 0 || id >= V) continue
    let s = sums.get(id)
    if (s === undefined) sums.set(id, (s = new Float32Array(E)))
    for (let j = 0; j < E; j++) s[j] += rows[k * E + j]!
  }
  const w = own.values
  for (const [id, s] of sums) for (let j = 0; j < E; j++) w[id * E + j] = Math.fround(w[id * E + j]! + s[j]!)
  own.done()
  return dW
}
