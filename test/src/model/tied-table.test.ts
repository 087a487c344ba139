import {expect} from 'chai'
import * as tf from '#tfjs'

import {TiedTable} from '../../../src/model/tied-table.js'
import {initBackend} from '../../../src/runtime/backend.js'

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`TiedTable (${backend})`, () => {
    before(async () => {
      await initBackend({backend, native: 'off'})
    })

    it('one gradient for lookup + tied decoder, equal to tfjs summing both uses (repeated ids), no leak', () => {
      const init = tf.randomNormal([7, 4], 0, 1, 'float32', 1)
      const table = tf.variable(init, true, `tied-${backend}`)
      init.dispose()
      const bias = tf.variable(tf.zeros([7]), true, `tied-bias-${backend}`)
      const ids = tf.tensor1d([3, 1, 3, 6, 3], 'int32')
      const r = tf.randomNormal([5, 4], 0, 1, 'float32', 2)
      const s = tf.randomNormal([5, 7], 0, 1, 'float32', 3)
      const tie = new TiedTable(table)
      const loss = (tied: boolean) => () => {
        const rows = tied ? tie.lookup(ids) : tf.gather(table, ids) // [5, 4]
        const h = tf.tanh(tf.add(rows, r))
        const logits = tied ? tie.decode(h as tf.Tensor2D, bias as tf.Tensor as tf.Tensor1D) : tf.fused.matMul({a: h as tf.Tensor2D, b: table, transposeB: true, bias})
        return tf.sum(tf.mul(logits, s)) as tf.Scalar
      }
      const plain = tf.variableGrads(loss(false), [table, bias])
      const before = tf.memory().numTensors
      const tied = tf.variableGrads(loss(true), [table, bias])
      expect(tied.value.dataSync()[0]).to.equal(plain.value.dataSync()[0])
      for (const v of [table, bias]) expect(Array.from(tied.grads[v.name]!.dataSync()), v.name).to.deep.equal(Array.from(plain.grads[v.name]!.dataSync()))
      tf.dispose([tied.value, ...Object.values(tied.grads)])
      // a backward pass that does not reach the table leaves nothing behind
      const onlyBias = tf.variableGrads(loss(true), [bias])
      tf.dispose([onlyBias.value, ...Object.values(onlyBias.grads)])
      expect(tf.memory().numTensors).to.equal(before)
      tf.dispose([plain.value, ...Object.values(plain.grads), table, bias, ids, r, s])
    })
  })
}
