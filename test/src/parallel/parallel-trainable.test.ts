import {expect} from 'chai'
import * as tf from '#tfjs'
import type {Batch} from '../../../src/data/batch-iterator.js'
import {RtdPair, v3Config} from '../../../src/model/index.js'
import {ParallelTrainable} from '../../../src/parallel/parallel-trainable.js'
import {RtdTrainable} from '../../../src/pretrain/rtd-trainable.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {AdamW} from '../../../src/train/adamw.js'
import type {LossContext, Trainable} from '../../../src/train/trainable.js'
import {Rng} from '../../../src/util/rng.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

const special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
const B = 5 // odd: the two replicas get 3 and 2 rows
const N = 16

function tinyTrainable(): RtdTrainable {
  const shape = {vocabSize: 97, hiddenSize: 16, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 64, positionBuckets: 8, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0}
  const pair = new RtdPair({architecture: debertaV3, discriminator: v3Config({...shape, numHiddenLayers: 2}), generator: v3Config({...shape, numHiddenLayers: 1}), sharing: 'gdes', seed: 7, maskTokenId: special.mask})
  return new RtdTrainable({pair, special, tokenizerVocabSize: 97, mask: {rate: 0.15, recipe: 'all-mask'}, temperature: 1, seed: 11})
}

/** Rows of different lengths (padding at the end), [CLS] ... [SEP]. */
function batchOf(step: number): Batch {
  const rng = Rng.derive('parallel-test', step)
  const inputIds = new Int32Array(B * N)
  const attentionMask = new Int32Array(B * N)
  for (let r = 0; r < B; r++) {
    const len = N - 2 * r
    for (let c = 0; c < len; c++) {
      inputIds[r * N + c] = c === 0 ? special.cls : c === len - 1 ? special.sep : 5 + rng.int(92)
      attentionMask[r * N + c] = 1
    }
  }
  return {inputIds, attentionMask, batchSize: B, seqLen: N, position: {epoch: 0, index: step * B}}
}

/**
 * `steps` AdamW updates of two micro-batches each; per-step losses. Joint: one optimizer over
 * both groups. Decoupled: the generator phase's update lands before the discriminator phase.
 */
async function trainLosses(model: Trainable<Batch>, steps: number, order: 'joint' | 'decoupled' = 'joint'): Promise<Record<string, number>[]> {
  const groups = model.parameterGroups()
  const phases = order === 'joint' ? [groups] : groups.map((g) => [g])
  const optimizers = phases.map((gs) => {
    const variables = new Map<string, tf.Variable>()
    for (const g of gs) for (const [n, v] of g.variables) variables.set(`${g.name}/${n}`, v)
    return new AdamW({variables})
  })
  const out: Record<string, number>[] = []
  for (let step = 0; step < steps; step++) {
    const losses: Record<string, number> = {}
    for (const [pi, gs] of phases.entries()) {
      const sum = new Map<string, tf.Tensor>()
      for (let microBatch = 0; microBatch < 2; microBatch++) {
        const ctx: LossContext = {step, microBatch, training: true, groups: gs.map((g) => g.name), weights: {mlm: 1, rtd: 50}}
        const r = await model.computeLossAndGrads(batchOf(2 * step + microBatch), ctx)
        for (const [g, m] of r.grads) {
          for (const [n, t] of m) {
            const k = `${g}/${n}`
            const prev = sum.get(k)
            sum.set(k, prev ? tf.add(prev, t) : t)
            if (prev) (prev.dispose(), t.dispose())
          }
        }
        for (const [n, v] of Object.entries(r.losses)) losses[`${pi}:${n}`] = (losses[`${pi}:${n}`] ?? 0) + v / 2
      }
      optimizers[pi]!.step(sum, 1e-2)
      for (const t of sum.values()) t.dispose()
    }
    out.push(losses)
  }
  for (const o of optimizers) o.dispose()
  return out
}

function expectClose(got: Record<string, number>[], expected: Record<string, number>[]): void {
  for (const [s, l] of got.entries()) {
    expect(Object.keys(l).sort()).to.deep.equal(Object.keys(expected[s]!).sort())
    for (const k of Object.keys(l)) {
      expect(l[k], `step ${s} ${k}`).to.be.a('number')
      expect(Math.abs(l[k]! - expected[s]![k]!), `step ${s} ${k}: ${l[k]} vs ${expected[s]![k]}`).to.be.below(1e-5 * Math.abs(expected[s]![k]!) + 1e-6)
    }
  }
}

function worstWeightDiff(a: RtdTrainable, b: RtdTrainable): number {
  const x = a.opts.pair.variables().map((v) => v.dataSync())
  const y = b.opts.pair.variables().map((v) => v.dataSync())
  let worst = 0
  x.forEach((u, i) => u.forEach((w, j) => (worst = Math.max(worst, Math.abs(w - y[i]![j]!)))))
  return worst
}

describe('ParallelTrainable', function () {
  this.timeout(120_000)
  before(async () => {
    await initBackend({backend: 'cpu'})
  })

  for (const backend of ['cpu', 'wasm'] as const) {
  it(`gives the per-step losses and weights of one replica on the same global batch (W=2, ${backend}), without leaking tensors`, async () => {
    await initBackend({backend, native: 'off'})
    const single = tinyTrainable()
    const expected = await trainLosses(single, 3)

    const replica0 = tinyTrainable()
    const before = tf.memory().numTensors
    const parallel = await ParallelTrainable.create({trainable: replica0, workers: 2, runtime: {backend, native: 'off', threads: 1}})
    try {
      const got = await trainLosses(parallel, 3)
      expect(tf.memory().numTensors).to.equal(before)
      expectClose(got, expected)
      // the losses moved, so the weights were really updated and copied to the worker
      expect(got[2]!['0:loss']).to.not.equal(got[0]!['0:loss'])
      expect(worstWeightDiff(single, replica0)).to.be.below(1e-5)
    } finally {
      await parallel.close()
      single.opts.pair.dispose()
      replica0.opts.pair.dispose()
    }
  })

  }

  it('matches one replica in decoupled order too (generator update before the discriminator phase)', async () => {
    await initBackend({backend: 'cpu'})
    const single = tinyTrainable()
    const expected = await trainLosses(single, 2, 'decoupled')
    const replica0 = tinyTrainable()
    const parallel = await ParallelTrainable.create({trainable: replica0, workers: 2, runtime: {backend: 'cpu', native: 'off', threads: 1}})
    try {
      expectClose(await trainLosses(parallel, 2, 'decoupled'), expected)
      expect(worstWeightDiff(single, replica0)).to.be.below(1e-5)
    } finally {
      await parallel.close()
      single.opts.pair.dispose()
      replica0.opts.pair.dispose()
    }
  })

  it('reports a worker failure as a RuntimeFailure and close() ends the workers', async () => {
    await initBackend({backend: 'cpu'})
    const t = tinyTrainable()
    const parallel = await ParallelTrainable.create({trainable: t, workers: 3, runtime: {backend: 'cpu', native: 'off', threads: 1}})
    try {
      const bad: Batch = {...batchOf(0), seqLen: N + 1} // arrays no longer match batchSize·seqLen
      let err: unknown
      try {
        await parallel.computeLossAndGrads(bad, {step: 0, microBatch: 0, training: true, groups: ['generator', 'discriminator'], weights: {mlm: 1, rtd: 50}})
      } catch (e) {
        err = e
      }
      expect(err).to.be.instanceOf(Error)
    } finally {
      await parallel.close()
      t.opts.pair.dispose()
    }
    let closedErr: unknown
    await parallel.computeLossAndGrads(batchOf(0), {step: 0, microBatch: 0, training: true, groups: ['generator', 'discriminator'], weights: {mlm: 1, rtd: 50}}).catch((e) => (closedErr = e))
    expect(String(closedErr)).to.match(/closed/)
  })
})
