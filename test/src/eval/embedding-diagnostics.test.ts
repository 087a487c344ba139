/**
 * GDES diagnostics on a tiny model: which loss sends gradient into which word table (SPEC A.3:
 * the RTD loss never reaches E_G under GDES; under ES it does), and the table statistics.
 */
import * as tf from '#tfjs'
import {expect} from 'chai'

import type {Batch} from '../../../src/data/batch-iterator.js'
import {embeddingTableStats} from '../../../src/eval/embedding-diagnostics.js'
import {MlmModel, RtdPair, v3Config, type EmbeddingSharing} from '../../../src/model/index.js'
import {MlmTrainable, RtdTrainable} from '../../../src/pretrain/index.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

const special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
const V = 40

function batch(): Batch {
  const B = 4
  const N = 12
  const inputIds = new Int32Array(B * N)
  const attentionMask = new Int32Array(B * N)
  for (let b = 0; b < B; b++) {
    const len = N - b
    for (let j = 0; j < len; j++) {
      inputIds[b * N + j] = j === 0 ? special.cls : j === len - 1 ? special.sep : 5 + ((b * 7 + j * 3) % (V - 5))
      attentionMask[b * N + j] = 1
    }
  }
  return {inputIds, attentionMask, batchSize: B, seqLen: N, position: {epoch: 0, index: 0}}
}

function model(sharing: EmbeddingSharing): {pair: RtdPair; trainable: RtdTrainable} {
  const cfg = v3Config({vocabSize: V, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, positionBuckets: 8, maxPositionEmbeddings: 32})
  const pair = new RtdPair({architecture: debertaV3, discriminator: cfg, generator: {...cfg, numHiddenLayers: 1}, sharing, seed: 3, maskTokenId: special.mask})
  // a high masking rate so the batch surely has replacements (the RTD loss has positives)
  const trainable = new RtdTrainable({pair, special, tokenizerVocabSize: V, mask: {rate: 0.5, recipe: 'all-mask'}, temperature: 2, seed: 9})
  return {pair, trainable}
}

describe('embedding diagnostics', function () {
  this.timeout(60_000)
  before(async () => {
    await initBackend({backend: 'cpu', native: 'off'})
  })

  it('GDES: L_RTD sends exactly 0 into E_G and L_MLM exactly 0 into E_delta; the other two are nonzero', async () => {
    const {pair, trainable} = model('gdes')
    try {
      const d = await trainable.embeddingDiagnostics(batch(), {seed: 1})
      expect(d.emb_grad_rtd_g).to.equal(0)
      expect(d.emb_grad_mlm_delta).to.equal(0)
      expect(d.emb_grad_mlm_g).to.be.greaterThan(0)
      expect(d.emb_grad_rtd_delta).to.be.greaterThan(0)
      // E_delta starts at zero: E_D = E_G, cosine 1 on every row
      expect(d.emb_norm_delta).to.equal(0)
      expect(d.emb_cos_mean).to.be.closeTo(1, 1e-6)
      expect(d.emb_cos_median).to.be.closeTo(1, 1e-6)
      expect(d.emb_norm_d).to.be.closeTo(d.emb_norm_g, 1e-4)
    } finally {
      pair.dispose()
    }
  })

  it('ES: both losses send gradient into the one shared table', async () => {
    const {pair, trainable} = model('es')
    try {
      const d = await trainable.embeddingDiagnostics(batch(), {seed: 1})
      expect(d.emb_grad_rtd_g).to.be.greaterThan(0)
      expect(d.emb_grad_mlm_g).to.be.greaterThan(0)
      expect(d).to.not.have.property('emb_grad_rtd_delta')
      expect(d.emb_cos_mean).to.be.closeTo(1, 1e-6)
    } finally {
      pair.dispose()
    }
  })

  it('NES: each loss reaches only its own table', async () => {
    const {pair, trainable} = model('nes')
    try {
      const d = await trainable.embeddingDiagnostics(batch(), {seed: 1})
      expect(d.emb_grad_mlm_g).to.be.greaterThan(0)
      expect(d.emb_grad_rtd_g).to.equal(0)
      expect(d.emb_grad_rtd_d).to.be.greaterThan(0)
      expect(d.emb_grad_mlm_d).to.equal(0)
      // two independently initialised tables: far from identical
      expect(d.emb_cos_mean).to.be.lessThan(0.5)
    } finally {
      pair.dispose()
    }
  })

  it('MLM only: the norm of E_G and the MLM gradient into it', async () => {
    const cfg = v3Config({vocabSize: V, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, positionBuckets: 8, maxPositionEmbeddings: 32})
    const model = new MlmModel({config: cfg, seed: 3})
    try {
      const trainable = new MlmTrainable({model, special, tokenizerVocabSize: V, mask: {rate: 0.5, recipe: 'all-mask'}, seed: 9})
      const before = tf.memory().numTensors
      const d = await trainable.embeddingDiagnostics(batch(), {seed: 1})
      expect(tf.memory().numTensors).to.equal(before)
      expect(Object.keys(d).sort()).to.deep.equal(['emb_grad_mlm_g', 'emb_norm_g'])
      expect(d.emb_grad_mlm_g).to.be.greaterThan(0)
      const table = model.embeddingTables().word!
      expect(d.emb_norm_g).to.be.closeTo(Math.hypot(...table.dataSync()), 1e-3)
    } finally {
      model.dispose()
    }
  })

  it('table statistics: cosine of matching rows, Frobenius norms, E_D = E_G + E_delta', async () => {
    const g = tf.tensor2d([
      [1, 0],
      [0, 2],
      [3, 4],
    ])
    const delta = tf.tensor2d([
      [0, 1],
      [0, 0],
      [-3, -4],
    ])
    const s = await embeddingTableStats({generator: g, delta})
    // rows of E_D: [1,1] (cos 1/sqrt2), [0,2] (cos 1), [0,0] (no cosine: left out)
    expect(s.emb_cos_mean).to.be.closeTo((Math.SQRT1_2 + 1) / 2, 1e-6)
    expect(s.emb_cos_median).to.be.closeTo((Math.SQRT1_2 + 1) / 2, 1e-6)
    expect(s.emb_norm_g).to.be.closeTo(Math.sqrt(1 + 4 + 25), 1e-5)
    expect(s.emb_norm_delta).to.be.closeTo(Math.sqrt(1 + 25), 1e-5)
    expect(s.emb_norm_d).to.be.closeTo(Math.sqrt(2 + 4), 1e-5)
    tf.dispose([g, delta])
  })

  it('leaks no tensors', async () => {
    const {pair, trainable} = model('gdes')
    try {
      await trainable.embeddingDiagnostics(batch(), {seed: 1})
      const before = tf.memory().numTensors
      await trainable.embeddingDiagnostics(batch(), {seed: 2})
      expect(tf.memory().numTensors).to.equal(before)
    } finally {
      pair.dispose()
    }
  })
})
