import {expect} from 'chai'
import * as tf from '#tfjs'

import {v3Config, type DebertaConfig} from '../../../src/model/config.js'
import {gatherRows} from '../../../src/model/embeddings.js'
import {recomputesLayer} from '../../../src/model/nn.js'
import {recomputed} from '../../../src/model/recompute.js'
import {RtdPair, type RtdLossOptions} from '../../../src/model/rtd-pair.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {Rng} from '../../../src/util/rng.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

const small = (over: Partial<DebertaConfig> = {}): DebertaConfig =>
  v3Config({vocabSize: 40, hiddenSize: 16, numAttentionHeads: 2, intermediateSize: 32, numHiddenLayers: 3, positionBuckets: 8, maxPositionEmbeddings: 32, initializerRange: 0.2, ...over})

// B = 2, N = 8; row 1 has two pads.
const batch: RtdLossOptions = {
  inputIds: Int32Array.from([1, 10, 11, 12, 13, 14, 15, 2, 1, 20, 21, 22, 23, 2, 0, 0]),
  attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  mlmMask: Int32Array.from([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0]),
  batch: 2,
  seqLen: 8,
  lambda: 50,
}

/** Loss and gradients (by tf name) of one GDES step with dropout on, recompute on, alternate or off. */
function step(pair: RtdPair, recompute: boolean | 'alternate'): {loss: number; grads: Map<string, Float32Array>} {
  const {value, grads} = tf.variableGrads(
    () => pair.lossFn({...batch, recompute, training: true, dropoutRng: Rng.derive('dropout', 1), sampleRng: Rng.derive('samples', 1)}).loss,
    pair.variables(),
  )
  const out = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]))
  const loss = value.dataSync()[0]!
  value.dispose()
  tf.dispose(grads)
  return {loss, grads: out}
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1e-6 + Math.abs(b[i]!)))
  return worst
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`recompute (${backend})`, () => {
    before(async () => {
      await initBackend({backend, native: 'off'})
    })

    it('gives the same loss and gradients as keeping the activations (GDES, dropout on), without leaking tensors', () => {
      const pair = new RtdPair({architecture: debertaV3, 
        discriminator: small({hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1}),
        generator: small({numHiddenLayers: 2, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1}),
        sharing: 'gdes',
        seed: 5,
        maskTokenId: 4,
      })
      const plain = step(pair, false)
      const before = tf.memory().numTensors
      const re = step(pair, true)
      step(pair, true)
      expect(tf.memory().numTensors).to.equal(before)
      expect(re.loss).to.equal(plain.loss)
      expect([...re.grads.keys()].sort()).to.deep.equal([...plain.grads.keys()].sort())
      for (const [k, g] of plain.grads) expect(maxRelErr(re.grads.get(k)!, g), k).to.be.lessThan(1e-5)
      // every layer's weights got a gradient through the recomputed node
      expect([...re.grads.keys()].filter((k) => k.includes('discriminator/deberta.encoder.layer.2.output.dense.weight'))).to.have.length(1)
      pair.dispose()
    })

    it('alternate (every other layer) gives the same loss and gradients as keeping every activation', () => {
      const pair = new RtdPair({architecture: debertaV3, 
        discriminator: small({hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1}),
        generator: small({numHiddenLayers: 2, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1}),
        sharing: 'gdes',
        seed: 7,
        maskTokenId: 4,
      })
      const plain = step(pair, false)
      const before = tf.memory().numTensors
      const alt = step(pair, 'alternate')
      expect(tf.memory().numTensors).to.equal(before)
      expect(alt.loss).to.equal(plain.loss)
      for (const [k, g] of plain.grads) expect(maxRelErr(alt.grads.get(k)!, g), k).to.be.lessThan(1e-5)
      pair.dispose()
    })

    for (const sharing of ['es', 'nes'] as const) {
      it(`${sharing}: recomputation gives the same gradients`, () => {
        const pair = new RtdPair({architecture: debertaV3, discriminator: small(), generator: small({numHiddenLayers: 1}), sharing, seed: 6, maskTokenId: 4})
        const plain = step(pair, false)
        const re = step(pair, true)
        expect(re.loss).to.equal(plain.loss)
        for (const [k, g] of plain.grads) expect(maxRelErr(re.grads.get(k)!, g), k).to.be.lessThan(1e-5)
        pair.dispose()
      })
    }

    it('recomputed(): input and variable gradients match plain autodiff; the outer tape still frees its tensors', () => {
      const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25]]))
      const x0 = tf.tensor2d([[1, 2], [3, -4]])
      const block = (x: tf.Tensor) => tf.tanh(tf.matMul(tf.square(x), w))
      const loss = (useRecompute: boolean) =>
        tf.variableGrads(() => {
          const x = tf.mul(x0, w) // x depends on w too: both paths must reach it
          const y = useRecompute ? recomputed({inputs: [x], variables: [w], ctx: {training: false}, fn: ([a]) => block(a!)}) : block(x)
          return tf.sum(tf.mul(y, y)) as tf.Scalar
        }, [w])
      const before = tf.memory().numTensors
      const a = loss(false)
      const b = loss(true)
      const ga = a.grads[w.name]!.dataSync()
      const gb = b.grads[w.name]!.dataSync()
      expect(Array.from(gb)).to.deep.equal(Array.from(ga))
      expect(b.value.dataSync()[0]).to.equal(a.value.dataSync()[0])
      tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)])
      expect(tf.memory().numTensors).to.equal(before)
      w.dispose()
      x0.dispose()
    })

    it('gatherRows: the gradient is the row sum of tf.gather (repeated ids included)', () => {
      const table = tf.variable(tf.randomNormal([6, 3], 0, 1, 'float32', 7))
      const ids = tf.tensor1d([4, 1, 4, 0], 'int32')
      const up = tf.randomNormal([4, 3], 0, 1, 'float32', 8)
      const g = (f: (t: tf.Tensor, i: tf.Tensor1D) => tf.Tensor) => tf.variableGrads(() => tf.sum(tf.mul(f(table, ids), up)) as tf.Scalar, [table])
      const a = g((t, i) => tf.gather(t, i))
      const b = g((t, i) => gatherRows(t, i))
      expect(Array.from(b.grads[table.name]!.dataSync())).to.deep.equal(Array.from(a.grads[table.name]!.dataSync()))
      expect(b.value.dataSync()[0]).to.equal(a.value.dataSync()[0])
      tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), table, ids, up])
    })
  })
}

describe('recomputesLayer', () => {
  it('picks every layer, none, or the odd-indexed ones', () => {
    const pick = (r: boolean | 'alternate' | undefined) => [0, 1, 2, 3, 4].filter((i) => recomputesLayer(r, i))
    expect(pick(true)).to.deep.equal([0, 1, 2, 3, 4])
    expect(pick(false)).to.deep.equal([])
    expect(pick(undefined)).to.deep.equal([])
    expect(pick('alternate')).to.deep.equal([1, 3])
  })
})
