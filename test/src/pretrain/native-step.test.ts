/**
 * A GDES training step on the native backend computes what the wasm backend computes (issue
 * 10): the same seeded weights, batch, masks, dropout and samples give the same losses and
 * gradients to float32 rounding (different summation orders and BLAS blocking, nothing more),
 * and one AdamW update moves the weights identically.
 */
import * as tf from '#tfjs'
import {expect} from 'chai'
import {SPECIAL, syntheticBatch} from '../../../src/bench/run-bench.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'
import {RtdPair, v3Config} from '../../../src/model/index.js'
import {RtdTrainable} from '../../../src/pretrain/rtd-trainable.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {hasArrayKernels} from '../../../src/runtime/native-backend/native-kernels.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {AdamW} from '../../../src/train/adamw.js'

interface StepResult {
  losses: Record<string, number>
  grads: Map<string, Float32Array>
  updated: Map<string, Float32Array>
}

async function trainStep(backend: 'wasm' | 'native'): Promise<StepResult> {
  await initBackend({backend, threads: 2})
  const shape = {vocabSize: 300, hiddenSize: 32, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 64, positionBuckets: 16}
  const pair = new RtdPair({architecture: debertaV3, discriminator: v3Config({...shape, numHiddenLayers: 2}), generator: v3Config({...shape, numHiddenLayers: 1}), sharing: 'gdes', seed: 5, maskTokenId: SPECIAL.mask})
  const model = new RtdTrainable({pair, special: SPECIAL, tokenizerVocabSize: 300, mask: {rate: 0.15, recipe: 'all-mask'}, temperature: 1, seed: 5})
  try {
    const groups = model.parameterGroups()
    const batch = syntheticBatch({batch: 4, seq: 24, vocab: 300, seed: 5, index: 0})
    const r = await model.computeLossAndGrads(batch, {step: 0, microBatch: 0, training: true, groups: groups.map((g) => g.name), weights: {mlm: 1, rtd: 50}})
    const grads = new Map<string, Float32Array>()
    const flat = new Map<string, tf.Tensor>()
    for (const [g, m] of r.grads) {
      for (const [n, t] of m) {
        grads.set(`${g}/${n}`, t.dataSync() as Float32Array)
        flat.set(`${g}/${n}`, t)
      }
    }
    const variables = new Map<string, tf.Variable>()
    for (const g of groups) for (const [n, v] of g.variables) variables.set(`${g.name}/${n}`, v)
    const opt = new AdamW({variables, beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.01})
    opt.step(flat, 1e-3)
    for (const t of flat.values()) t.dispose()
    const updated = new Map([...variables].map(([k, v]) => [k, v.dataSync() as Float32Array]))
    opt.dispose()
    return {losses: r.losses, grads, updated}
  } finally {
    pair.dispose()
  }
}

function worstRelative(a: Float32Array, b: Float32Array): number {
  let scale = 0
  let err = 0
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!))
    err = Math.max(err, Math.abs(a[i]! - b[i]!))
  }
  return scale === 0 ? err : err / scale
}

describe('native training step', function () {
  this.timeout(60_000)

  before(function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok || !hasArrayKernels(loaded.kernels)) this.skip()
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  it('gives wasm\'s losses, gradients and AdamW update to float32 rounding', async () => {
    const wasm = await trainStep('wasm')
    const native = await trainStep('native')
    expect(Object.keys(native.losses).sort()).to.deep.equal(Object.keys(wasm.losses).sort())
    for (const [k, v] of Object.entries(wasm.losses)) expect(native.losses[k], k).to.be.closeTo(v, 1e-5 * Math.abs(v))
    expect([...native.grads.keys()].sort()).to.deep.equal([...wasm.grads.keys()].sort())
    let nonZero = 0
    for (const [name, g] of wasm.grads) {
      expect(worstRelative(g, native.grads.get(name)!), name).to.be.below(1e-4)
      if (g.some((x) => x !== 0)) nonZero++
    }
    expect(nonZero).to.be.greaterThan(wasm.grads.size / 2) // the comparison covers real gradients
    // Adam divides by sqrt(v): a gradient near 0 amplifies its rounding (E_Δ starts at 0, so its scale is one update)
    for (const [name, p] of wasm.updated) expect(worstRelative(p, native.updated.get(name)!), name).to.be.below(1e-4)
  })
})
