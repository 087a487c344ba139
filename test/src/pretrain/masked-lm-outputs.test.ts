import {expect} from 'chai'

import {mlmTokenStats} from '../../../src/pretrain/masked-lm-outputs.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {Rng} from '../../../src/util/rng.js'

describe('mlmTokenStats', () => {
  for (const impl of ['auto', 'js'] as const) {
    it(`gives each row's cross-entropy and first top-1 id (${impl})`, () => {
      // row 0: uniform over 4 (loss log 4, argmax the first of the ties); row 1: peaked on id 2
      const logits = Float32Array.from([1, 1, 1, 1, /* row 1 */ 0, 0, 30, 0])
      const {losses, predicted} = mlmTokenStats({logits, rows: 2, vocab: 4, labels: Int32Array.from([3, 2]), impl})
      expect(losses[0]).to.be.closeTo(Math.log(4), 1e-6)
      expect(losses[1]).to.be.closeTo(0, 1e-6)
      expect([...predicted]).to.deep.equal([0, 2])
    })
  }

  it('computes the same losses and ids in C (native addon) as in JS, bit for bit', function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok || typeof loaded.kernels.logitRowStats !== 'function') this.skip()
    const rows = 256
    const vocab = 4000
    const gen = Rng.derive(5, 'logits')
    const logits = Float32Array.from({length: rows * vocab}, () => gen.normal() * (gen.uniform() < 0.05 ? 200 : 4))
    logits[3 * vocab + 10] = Number.NaN
    logits.fill(-Infinity, 4 * vocab, 5 * vocab - 1)
    const labels = Int32Array.from({length: rows}, () => gen.int(vocab))
    const c = mlmTokenStats({logits, rows, vocab, labels})
    const js = mlmTokenStats({logits, rows, vocab, labels, impl: 'js'})
    expect(c.predicted).to.deep.equal(js.predicted)
    expect(c.losses).to.deep.equal(js.losses)
    expect(new Set(c.predicted).size).to.be.greaterThan(100)
  })
})
