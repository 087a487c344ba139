import {expect} from 'chai'
import * as tf from '#tfjs'

import {RuntimeFailure} from '../../../src/errors.js'
import {v3Config, type DebertaConfig} from '../../../src/model/config.js'
import type {EmbeddingSharing} from '../../../src/model/embeddings.js'
import {MlmModel} from '../../../src/model/mlm-model.js'
import type {Discriminator} from '../../../src/model/discriminator.js'
import {tidy} from '../../../src/model/nn.js'
import {RtdPair, type RtdLossOptions} from '../../../src/model/rtd-pair.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {Rng} from '../../../src/util/rng.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

const E_G = 'deberta.embeddings.word_embeddings.weight'
const E_DELTA = 'deberta.embeddings.word_embeddings._weight'
const small = (over: Partial<DebertaConfig> = {}): DebertaConfig =>
  v3Config({vocabSize: 40, hiddenSize: 16, numAttentionHeads: 2, intermediateSize: 32, numHiddenLayers: 2, positionBuckets: 8, maxPositionEmbeddings: 32, initializerRange: 0.2, ...over})

function makePair(sharing: EmbeddingSharing, over: Partial<DebertaConfig> = {}): RtdPair<DebertaConfig, MlmModel, Discriminator> {
  const pair = new RtdPair({architecture: debertaV3, discriminator: small(over), generator: small({...over, numHiddenLayers: 1}), sharing, seed: 3, maskTokenId: 4})
  if (sharing === 'gdes') {
    // A non-zero E_Δ, as in a checkpoint mid-training (it starts at zero).
    const d = pair.discriminator.params
    const shape = d.get(E_DELTA).shape
    d.assign(E_DELTA, {shape, data: Float32Array.from({length: shape[0] * shape[1]!}, (_, k) => 0.05 * Math.sin(k))})
  }
  return pair
}

// B = 2, N = 8; row 1 has two pads. [CLS]=1, [SEP]=2, [MASK]=4.
const batch: RtdLossOptions = {
  inputIds: Int32Array.from([1, 10, 11, 12, 13, 14, 15, 2, 1, 20, 21, 22, 23, 2, 0, 0]),
  attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  mlmMask: Int32Array.from([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0]),
  samples: Int32Array.from([30, 12, 31, 32, 23]), // the 2nd equals the original (12), the 5th too (23)
  batch: 2,
  seqLen: 8,
  lambda: 50,
}

/** Gradients of `which` (by role:name), as host arrays. */
function grads(pair: RtdPair, which: 'mlm' | 'rtd' | 'total', opts: Partial<RtdLossOptions> = {}): Map<string, Float32Array> {
  const {value, grads} = tf.variableGrads(() => {
    const r = pair.lossFn({...batch, ...opts})
    return which === 'total' ? r.loss : which === 'mlm' ? r.lossMlm! : r.lossRtd!
  }, pair.variables())
  const out = new Map<string, Float32Array>()
  for (const [k, g] of Object.entries(grads)) {
    const id = pair.hfName(k)!
    out.set(`${id.role}:${id.name}`, g.dataSync() as Float32Array)
  }
  value.dispose()
  tf.dispose(grads)
  return out
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

describe('rtd-pair', () => {
  before(async () => {
    await initBackend({backend: 'cpu'})
  })

  it('GDES: the RTD loss leaves E_G with exactly zero gradient and reaches E_delta; the MLM loss never reaches E_delta', () => {
    const pair = makePair('gdes')
    expect(pair.discriminatorVariables().map((v) => pair.hfName(v)!.name)).to.include(E_DELTA).and.not.include(E_G)
    const rtd = grads(pair, 'rtd')
    expect(rtd.get(`generator:${E_G}`) ?? new Float32Array(1)).to.satisfy((g: Float32Array) => g.every((v) => v === 0))
    expect(maxAbs(rtd.get(`discriminator:${E_DELTA}`)!)).to.be.greaterThan(0)
    const mlm = grads(pair, 'mlm')
    expect(mlm.has(`discriminator:${E_DELTA}`)).to.equal(false)
    const total = grads(pair, 'total')
    expect(total.get(`generator:${E_G}`)).to.deep.equal(mlm.get(`generator:${E_G}`)) // only L_MLM reaches E_G
    pair.dispose()
  })

  it('ES: E_G gets the tug of war, grad_total = grad_mlm + lambda * grad_rtd', () => {
    const pair = makePair('es')
    expect(pair.discriminatorVariables().map((v) => pair.hfName(v)!.name)).to.not.include(E_G)
    const mlm = grads(pair, 'mlm').get(`generator:${E_G}`)!
    const rtd = grads(pair, 'rtd').get(`generator:${E_G}`)!
    const total = grads(pair, 'total').get(`generator:${E_G}`)!
    expect(maxAbs(rtd)).to.be.greaterThan(0)
    let worst = 0
    for (let k = 0; k < total.length; k++) worst = Math.max(worst, Math.abs(total[k] - (mlm[k] + 50 * rtd[k])))
    expect(worst).to.be.lessThan(1e-5 * Math.max(1, maxAbs(total)))
    pair.dispose()
  })

  it('NES: each model owns its table and the RTD loss does not reach the generator', () => {
    const pair = makePair('nes')
    expect(pair.discriminatorVariables().map((v) => pair.hfName(v)!.name)).to.include(E_G)
    const rtd = grads(pair, 'rtd')
    expect([...rtd.keys()].some((k) => k.startsWith('generator:'))).to.equal(false)
    pair.dispose()
  })

  it('labels a token replaced only if masked and the sample differs; builds the discriminator input', () => {
    const pair = makePair('gdes')
    const r = tf.tidy(() => {
      const out = pair.lossFn(batch)
      return {labels: out.rtdLabels, disc: out.discInputIds, masked: out.maskedInputIds}
    })
    expect([...r.labels]).to.deep.equal([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    expect([...r.disc]).to.deep.equal([1, 30, 11, 12, 13, 14, 31, 2, 1, 20, 32, 22, 23, 2, 0, 0])
    expect([...r.masked]).to.deep.equal([1, 4, 11, 4, 13, 14, 4, 2, 1, 20, 4, 22, 4, 2, 0, 0])
    pair.dispose()
  })

  it('decoupled parts: generator part = w·L_MLM, discriminator part = lambda·L_RTD with the same samples', () => {
    const pair = makePair('gdes')
    const [joint, gen, disc] = tf.tidy(() => {
      const j = pair.lossFn({...batch, mlmWeight: 2})
      const g = pair.lossFn({...batch, mlmWeight: 2, part: 'generator'})
      const d = pair.lossFn({...batch, part: 'discriminator'})
      return [j.loss.dataSync()[0], g.loss.dataSync()[0], d.loss.dataSync()[0]]
    })
    expect(gen + disc).to.be.closeTo(joint, 1e-4)
    expect(() => tf.tidy(() => pair.lossFn({...batch, samples: undefined, part: 'discriminator'}).loss)).to.throw(/samples/)
    pair.dispose()
  })

  it('samples replacements reproducibly when no samples are given', () => {
    const pair = makePair('gdes')
    const draw = (k: number) => tf.tidy(() => pair.lossFn({...batch, samples: undefined, sampleRng: Rng.derive(9, 'sample', k)}).samples)
    expect(draw(0)).to.deep.equal(draw(0))
    expect(draw(0).length).to.equal(5)
    pair.dispose()
  })

  it('dropout is seeded in training mode and off in evaluation', () => {
    const pair = makePair('gdes', {hiddenDropoutProb: 0.3, attentionProbsDropoutProb: 0.3})
    const loss = (o: Partial<RtdLossOptions>) => tf.tidy(() => pair.lossFn({...batch, ...o}).loss.dataSync()[0])
    expect(loss({training: true, dropoutRng: Rng.derive(1, 'dropout', 0)})).to.equal(loss({training: true, dropoutRng: Rng.derive(1, 'dropout', 0)}))
    expect(loss({training: true, dropoutRng: Rng.derive(1, 'dropout', 0)})).to.not.equal(loss({training: true, dropoutRng: Rng.derive(1, 'dropout', 1)}))
    expect(loss({})).to.equal(loss({dropoutRng: Rng.derive(1, 'dropout', 5)}))
    pair.dispose()
  })

  it('does not leak tensors over several training steps (dropout on, sampling on)', () => {
    const pair = makePair('gdes', {hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1})
    const opt = tf.train.adam(1e-3)
    const step = (i: number) =>
      opt.minimize(() => pair.lossFn({...batch, samples: undefined, sampleRng: Rng.derive(1, 's', i), training: true, dropoutRng: Rng.derive(1, 'd', i)}).loss, false, pair.variables())
    step(0)
    const before = tf.memory().numTensors
    for (let i = 1; i < 4; i++) step(i)
    expect(tf.memory().numTensors).to.equal(before)
    opt.dispose()
    pair.dispose()
  })

  it('a few Adam steps lower the joint loss', () => {
    const pair = makePair('gdes')
    const opt = tf.train.adam(1e-2)
    const losses: number[] = []
    for (let i = 0; i < 12; i++) {
      const l = opt.minimize(() => pair.lossFn(batch).loss, true, pair.variables())!
      losses.push(l.dataSync()[0])
      l.dispose()
    }
    expect(losses[losses.length - 1]).to.be.lessThan(0.7 * losses[0])
    opt.dispose()
    pair.dispose()
  })

  it('exports the discriminator with word_embeddings.weight = E_G + E_delta and no _weight', () => {
    const pair = makePair('gdes')
    const d = pair.exportDiscriminatorTensors()
    expect([...d.keys()].some((k) => k.endsWith('._weight'))).to.equal(false)
    expect(d.has('mask_predictions.classifier.weight')).to.equal(true)
    const eg = pair.generator.wordTable().dataSync()
    const delta = pair.discriminator.params.get(E_DELTA).dataSync()
    const w = d.get(E_G)!.data
    expect(w[17]).to.equal(Math.fround(eg[17] + delta[17]))
    expect(pair.exportGeneratorTensors().has('lm_predictions.lm_head.bias')).to.equal(true)
    pair.dispose()
  })

  it('round-trips training tensors and rebuilds E_delta from a plain HF discriminator export', () => {
    const a = makePair('gdes')
    const lossOf = (p: RtdPair) => tf.tidy(() => p.lossFn(batch).loss.dataSync()[0])
    const t = a.trainingTensors()
    expect(t.discriminator.has(E_DELTA)).to.equal(true)
    const b = new RtdPair({architecture: debertaV3, discriminator: small(), generator: small({numHiddenLayers: 1}), sharing: 'gdes', seed: 99, maskTokenId: 4})
    b.loadTensors(t)
    expect(lossOf(b)).to.equal(lossOf(a))
    const c = new RtdPair({architecture: debertaV3, discriminator: small(), generator: small({numHiddenLayers: 1}), sharing: 'gdes', seed: 98, maskTokenId: 4})
    const notes = c.loadTensors({generator: a.exportGeneratorTensors(), discriminator: a.exportDiscriminatorTensors()})
    expect(notes.join('\n')).to.match(/E_delta = /)
    expect(lossOf(c)).to.be.closeTo(lossOf(a), 1e-5)
    for (const p of [a, b, c]) p.dispose()
  })

  it('rejects weights with missing, unexpected or wrongly shaped tensors, naming them', () => {
    const pair = makePair('nes')
    const t = pair.exportGeneratorTensors()
    t.delete('lm_predictions.lm_head.bias')
    t.set('deberta.encoder.layer.0.attention.self.bogus', {shape: [1], data: new Float32Array(1)})
    t.set('deberta.embeddings.LayerNorm.weight', {shape: [3], data: new Float32Array(3)})
    expect(() => pair.generator.loadTensors(t))
      .to.throw(RuntimeFailure)
      .with.property('message')
      .that.match(/missing: lm_predictions\.lm_head\.bias/)
      .and.match(/unexpected: .*bogus/)
      .and.match(/wrong shape: deberta\.embeddings\.LayerNorm\.weight/)
    pair.dispose()
  })

  it('handles embedding_size != hidden, absolute positions, token types and separate position keys', () => {
    const over = {embeddingSize: 8, positionBiasedInput: true, typeVocabSize: 2, shareAttKey: false}
    const pair = makePair('gdes', over)
    const names = pair.discriminatorVariables().map((v) => pair.hfName(v)!.name)
    for (const n of ['deberta.embeddings.embed_proj.weight', 'deberta.embeddings.position_embeddings._weight', 'deberta.embeddings.token_type_embeddings.weight', 'deberta.encoder.layer.0.attention.self.pos_key_proj.bias'])
      expect(names).to.include(n)
    expect(pair.generator.params.get(E_G).shape).to.deep.equal([40, 8])
    expect(pair.generator.params.get('lm_predictions.lm_head.dense.weight').shape).to.deep.equal([8, 16])
    const g = grads(pair, 'total', {tokenTypeIds: new Int32Array(16).fill(1)})
    expect(maxAbs(g.get('discriminator:deberta.embeddings.position_embeddings._weight')!)).to.be.greaterThan(0)
    expect(pair.exportDiscriminatorTensors().has('deberta.embeddings.position_embeddings.weight')).to.equal(true)
    pair.dispose()
  })

  it('handles a sequence of length 1, an all-pad row and a batch without masked tokens (finite losses)', () => {
    const pair = makePair('gdes')
    const one = tidy(() => pair.lossFn({inputIds: Int32Array.from([1, 1]), attentionMask: Int32Array.from([1, 0]), mlmMask: new Int32Array(2), samples: new Int32Array(0), batch: 2, seqLen: 1, lambda: 50}))
    expect(Number.isFinite(one.loss.dataSync()[0])).to.equal(true)
    expect(one.lossMlm!.dataSync()[0]).to.equal(0)
    const {value, grads} = tf.variableGrads(() => pair.lossFn({...batch, mlmMask: new Int32Array(16), samples: new Int32Array(0)}).loss, pair.variables())
    expect(Number.isFinite(value.dataSync()[0])).to.equal(true)
    value.dispose()
    tf.dispose(grads)
    one.dispose()
    pair.dispose()
  })

  it('the generator alone is a plain MLM model (mlm baseline)', () => {
    const m = new MlmModel({config: small(), seed: 1})
    const labels = Int32Array.from([10, 12, 15, 21, 23])
    const masked = Int32Array.from(batch.inputIds, (id, k) => (batch.mlmMask[k] ? 4 : id))
    const {value, grads} = tf.variableGrads(() => m.lossFn({maskedInputIds: masked, attentionMask: batch.attentionMask, mlmMask: batch.mlmMask, labels, batch: 2, seqLen: 8, ctx: {training: false}}).loss, m.variables())
    expect(value.dataSync()[0]).to.be.greaterThan(0)
    expect(Object.keys(grads).length).to.equal(m.variables().length)
    value.dispose()
    tf.dispose(grads)
    m.dispose()
  })
})
