import * as tf from '#tfjs'
import {expect} from 'chai'
import {initBackend} from '../../../src/runtime/backend.js'
import {maxAbsDiff, naiveSegmentSum, values} from './naive.js'

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`UnsortedSegmentSum on ${backend}`, () => {
    before(async () => {
      await initBackend({backend, native: 'off'})
    })

    it('matches a naive sum with repeated, unused and out-of-range ids', () => {
      const x = values(7 * 5, 1)
      const ids = [3, 0, 3, 5, -1, 9, 3] // segment 1,2,4 unused; -1 and 9 dropped
      const got = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(x, [7, 5]), tf.tensor1d(ids, 'int32'), 6))
      expect(got.shape).to.deep.equal([6, 5])
      expect(maxAbsDiff(got.dataSync(), naiveSegmentSum(x, ids, 6, 5))).to.be.below(1e-6)
      got.dispose()
    })

    it('sums int32 values exactly and keeps the dtype', () => {
      const got = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2))
      expect(got.dtype).to.equal('int32')
      expect(Array.from(got.dataSync())).to.deep.equal([5, 6, 4, 6])
      got.dispose()
    })

    it('gives tf.gather the gradient of a scatter-add, repeated rows included', () => {
      const [vocab, hidden] = [11, 4]
      const table = values(vocab * hidden, 2)
      const idx = [4, 1, 4, 10, 0, 4]
      const w = values(idx.length * hidden, 3)
      const grad = tf.tidy(() => {
        const e = tf.tensor2d(table, [vocab, hidden])
        const weights = tf.tensor2d(w, [idx.length, hidden])
        const ids = tf.tensor1d(idx, 'int32')
        return tf.grad((emb: tf.Tensor) => tf.sum(tf.mul(tf.gather(emb, ids), weights)))(e)
      })
      expect(grad.shape).to.deep.equal([vocab, hidden])
      expect(maxAbsDiff(grad.dataSync(), naiveSegmentSum(w, idx, vocab, hidden))).to.be.below(1e-6)
      grad.dispose()
    })

    it('handles a gather gradient on axis 1 of a 3-D tensor', () => {
      const x = values(2 * 5 * 3, 4)
      const idx = [4, 0, 4]
      const got = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d(idx, 'int32'), 1)))(tf.tensor3d(x, [2, 5, 3])))
      // d/dx of the sum counts how often each slice along axis 1 was gathered.
      const counts = [1, 0, 0, 0, 2]
      const expected = Array.from({length: 30}, (_, i) => counts[Math.floor(i / 3) % 5]!)
      expect(Array.from(got.dataSync())).to.deep.equal(expected)
      got.dispose()
    })

    it('does not leak tensors', () => {
      const emb = tf.ones([4, 3])
      const ids = tf.tensor1d([1, 2, 1], 'int32')
      const rows = tf.ones([3, 2])
      const before = tf.memory().numTensors
      for (let i = 0; i < 3; i++) {
        tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, ids)))(emb).dispose()
        tf.unsortedSegmentSum(rows, ids, 3).dispose()
      }
      const after = tf.memory().numTensors
      tf.dispose([emb, ids, rows])
      expect(after).to.equal(before)
    })
  })
}
