import {expect} from 'chai'
import * as tf from '#tfjs'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {readSafetensors} from '../../../../src/checkpoint/safetensors.js'
import {ConfigError} from '../../../../src/errors.js'
import {parseElectraConfig, type ElectraConfig} from '../../../../src/model/electra/config.js'
import {ELECTRA_SHARED_TABLES} from '../../../../src/model/electra/embeddings.js'
import {exportElectraPair, readElectraFolder} from '../../../../src/model/electra/hf-folder.js'
import type {EmbeddingSharing} from '../../../../src/model/embeddings.js'
import {RtdPair, type RtdLossOptions} from '../../../../src/model/rtd-pair.js'
import {architecture as electra} from '../../../../plugins/electra/electra-networks.js'
import {initBackend} from '../../../../src/runtime/backend.js'
import {Rng} from '../../../../src/util/rng.js'

const EMB = 'electra.embeddings'

/** The shared RtdPair over the electra architecture's networks (what training, export and `rtd verify` build). */
type ElectraPair = RtdPair<ElectraConfig, ReturnType<typeof electra.createMaskedLm>, ReturnType<typeof electra.createDiscriminator>>
const newPair = (opts: {discriminator: ElectraConfig; generator: ElectraConfig; sharing: EmbeddingSharing; seed: number; maskTokenId: number}): ElectraPair => new RtdPair({architecture: electra, ...opts})
const disc = (over: Record<string, unknown> = {}): ElectraConfig =>
  parseElectraConfig({
    json: {model_type: 'electra', vocab_size: 40, embedding_size: 8, hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 2, max_position_embeddings: 16, initializer_range: 0.2, ...over},
  })
const gen = (over: Record<string, unknown> = {}): ElectraConfig => disc({hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, ...over})

function makePair(sharing: EmbeddingSharing, seed = 3, over: Record<string, unknown> = {}): ElectraPair {
  const pair = newPair({discriminator: disc(over), generator: gen(over), sharing, seed, maskTokenId: 4})
  if (sharing === 'gdes') {
    // non-zero deltas, as in a checkpoint mid-training (they start at zero)
    for (const t of ELECTRA_SHARED_TABLES) {
      const name = `${EMB}.${t}._weight`
      const shape = pair.discriminator.params.get(name).shape
      pair.discriminator.params.assign(name, {shape, data: Float32Array.from({length: shape[0]! * shape[1]!}, (_, k) => 0.05 * Math.sin(k + t.length))})
    }
  }
  return pair
}

// B = 2, N = 8; row 1 has two pads; token types 0 for [CLS] A [SEP], 1 for B [SEP]. [MASK]=4.
const batch: RtdLossOptions = {
  inputIds: Int32Array.from([1, 10, 11, 2, 13, 14, 15, 2, 1, 20, 21, 2, 23, 2, 0, 0]),
  attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  tokenTypeIds: Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0]),
  mlmMask: Int32Array.from([0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0]),
  samples: Int32Array.from([30, 13, 31, 32, 23]), // the 2nd and 5th equal the original
  batch: 2,
  seqLen: 8,
  lambda: 50,
}

function grads(pair: ElectraPair, which: 'mlm' | 'rtd' | 'total', opts: Partial<RtdLossOptions> = {}): Map<string, Float32Array> {
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

const maxAbs = (a: Float32Array | undefined) => (a ?? new Float32Array()).reduce((m, v) => Math.max(m, Math.abs(v)), 0)
const lossOf = (p: ElectraPair, o: Partial<RtdLossOptions> = {}) => tf.tidy(() => p.lossFn({...batch, ...o}).loss.dataSync()[0]!)

describe('electra-pair', () => {
  let tmp: string
  before(async () => {
    await initBackend({backend: 'cpu'})
  })
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rtd-electra-'))
  })
  afterEach(() => {
    rmSync(tmp, {recursive: true, force: true})
  })

  it('GDES: the RTD loss leaves word, position and token-type tables of the generator with exactly zero gradient and reaches each delta', () => {
    const pair = makePair('gdes')
    const rtd = grads(pair, 'rtd')
    const mlm = grads(pair, 'mlm')
    for (const t of ELECTRA_SHARED_TABLES) {
      expect(maxAbs(rtd.get(`generator:${EMB}.${t}.weight`)), `rtd -> ${t} G`).to.equal(0)
      expect(maxAbs(rtd.get(`discriminator:${EMB}.${t}._weight`)), `rtd -> ${t} delta`).to.be.greaterThan(0)
      expect(maxAbs(mlm.get(`discriminator:${EMB}.${t}._weight`)), `mlm -> ${t} delta`).to.equal(0)
      expect(maxAbs(mlm.get(`generator:${EMB}.${t}.weight`)), `mlm -> ${t} G`).to.be.greaterThan(0)
    }
    // the discriminator's LayerNorm and projection are its own
    expect(pair.discriminator.params.vars.has('electra.embeddings_project.weight')).to.equal(true)
    expect(pair.generator.params.vars.has('electra.embeddings_project.weight')).to.equal(false)
    expect(maxAbs(rtd.get(`discriminator:${EMB}.LayerNorm.weight`))).to.be.greaterThan(0)
    pair.dispose()
  })

  it('ES: each generator table gets the tug of war, grad_total = grad_mlm + lambda * grad_rtd; the discriminator has no tables', () => {
    const pair = makePair('es')
    expect([...pair.discriminator.params.vars.keys()].filter((k) => /_embeddings\./.test(k))).to.deep.equal([])
    const [total, mlm, rtd] = (['total', 'mlm', 'rtd'] as const).map((w) => grads(pair, w))
    for (const t of ELECTRA_SHARED_TABLES) {
      const k = `generator:${EMB}.${t}.weight`
      expect(maxAbs(rtd.get(k)), t).to.be.greaterThan(0)
      const want = Float32Array.from(mlm.get(k)!, (v, i) => v + 50 * rtd.get(k)![i]!)
      total.get(k)!.forEach((v, i) => expect(v).to.be.closeTo(want[i]!, 1e-5 + 1e-4 * Math.abs(want[i]!)))
    }
    pair.dispose()
  })

  it('NES: each model owns its tables and the RTD loss does not reach the generator', () => {
    const pair = makePair('nes')
    const rtd = grads(pair, 'rtd')
    for (const t of ELECTRA_SHARED_TABLES) {
      expect(pair.discriminator.params.vars.has(`${EMB}.${t}.weight`)).to.equal(true)
      expect(maxAbs(rtd.get(`generator:${EMB}.${t}.weight`))).to.equal(0)
    }
    pair.dispose()
  })

  it('token types and positions change the output (both tables are read)', () => {
    const pair = makePair('gdes')
    const base = lossOf(pair)
    expect(lossOf(pair, {tokenTypeIds: new Int32Array(16)})).to.not.equal(base)
    const t = `${EMB}.position_embeddings._weight`
    const v = pair.discriminator.params.get(t)
    pair.discriminator.params.assign(t, {shape: [...v.shape], data: new Float32Array(v.size).fill(0.3)})
    expect(lossOf(pair)).to.not.equal(base)
    pair.dispose()
  })

  it("the pad row gets no lookup gradient (HF padding_idx), even at a real position; the tied decoder's gradient still reaches E_G row 0", () => {
    const pair = makePair('gdes')
    const inputIds = Int32Array.from(batch.inputIds)
    inputIds[5] = 0 // a [PAD] id at an attended position
    const rtd = grads(pair, 'rtd', {inputIds, maskedInputIds: Int32Array.from(inputIds, (id, k) => (batch.mlmMask[k] ? 4 : id))})
    const delta = rtd.get(`discriminator:${EMB}.word_embeddings._weight`)!
    expect(maxAbs(delta.subarray(0, 8))).to.equal(0)
    expect(maxAbs(delta.subarray(8))).to.be.greaterThan(0)
    const mlm = grads(pair, 'mlm', {inputIds})
    expect(maxAbs(mlm.get(`generator:${EMB}.word_embeddings.weight`)!.subarray(0, 8))).to.be.greaterThan(0)
    pair.dispose()
  })

  it('recomputing layer activations gives the same loss and gradients', () => {
    const pair = makePair('gdes')
    const plain = grads(pair, 'total', {recompute: false})
    const again = grads(pair, 'total', {recompute: true})
    for (const [k, g] of plain) expect(Array.from(again.get(k)!), k).to.deep.equal(Array.from(g))
    pair.dispose()
  })

  it('does not leak tensors over several training steps (dropout on, sampling on, recompute alternate)', () => {
    const pair = makePair('gdes', 3, {hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1})
    const opt = tf.train.adam(1e-3)
    const step = (i: number) =>
      opt.minimize(
        () => pair.lossFn({...batch, samples: undefined, sampleRng: Rng.derive(1, 's', i), training: true, dropoutRng: Rng.derive(1, 'd', i), recompute: i % 2 ? 'alternate' : false}).loss,
        false,
        pair.variables(),
      )
    step(0)
    step(1)
    const before = tf.memory().numTensors
    for (let i = 2; i < 6; i++) step(i)
    expect(tf.memory().numTensors).to.equal(before)
    const kept = pair.lossFn({...batch, keep: true})
    kept.dispose()
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
      losses.push(l.dataSync()[0]!)
      l.dispose()
    }
    expect(losses[losses.length - 1]).to.be.lessThan(0.7 * losses[0]!)
    opt.dispose()
    pair.dispose()
  })

  it('exports the discriminator with each table = X_G + X_delta, no _weight, discriminator_predictions.*', () => {
    const pair = makePair('gdes')
    const d = pair.exportDiscriminatorTensors()
    expect([...d.keys()].some((k) => k.endsWith('._weight'))).to.equal(false)
    expect(d.has('discriminator_predictions.dense_prediction.weight')).to.equal(true)
    for (const t of ELECTRA_SHARED_TABLES) {
      const g = pair.generator.params.get(`${EMB}.${t}.weight`).dataSync()
      const delta = pair.discriminator.params.get(`${EMB}.${t}._weight`).dataSync()
      expect(d.get(`${EMB}.${t}.weight`)!.data[3]).to.equal(Math.fround(g[3]! + delta[3]!))
    }
    const g = pair.exportGeneratorTensors()
    expect(g.has('generator_lm_head.bias')).to.equal(true)
    expect(g.has('generator_lm_head.weight')).to.equal(false) // tied to E_G
    pair.dispose()
  })

  it('round-trips training tensors and rebuilds every delta from a plain HF discriminator export', () => {
    const a = makePair('gdes')
    const t = a.trainingTensors()
    for (const n of ELECTRA_SHARED_TABLES) expect(t.discriminator.has(`${EMB}.${n}._weight`)).to.equal(true)
    const b = makePair('gdes', 99)
    b.loadTensors(t)
    expect(lossOf(b)).to.equal(lossOf(a))
    const c = makePair('gdes', 98)
    const notes = c.loadTensors({generator: a.exportGeneratorTensors(), discriminator: a.exportDiscriminatorTensors()})
    expect(notes.filter((n) => /delta = /.test(n))).to.have.length(3)
    expect(lossOf(c)).to.be.closeTo(lossOf(a), 1e-4)
    for (const p of [a, b, c]) p.dispose()
  })

  it('saves HF folders with ELECTRA names and config, and loads them back to the same losses', () => {
    const a = makePair('gdes')
    const out = exportElectraPair({pair: a, dir: path.join(tmp, 'export'), extraFiles: {'tokenizer.json': '{}'}})
    const dc = JSON.parse(readFileSync(path.join(out.discriminator, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(dc).to.include({model_type: 'electra', embedding_size: 8, hidden_size: 16})
    expect(dc.architectures).to.deep.equal(['ElectraForPreTraining'])
    const gc = JSON.parse(readFileSync(path.join(out.generator, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(gc.architectures).to.deep.equal(['ElectraForMaskedLM'])
    expect(existsSync(path.join(out.generator, 'tokenizer.json'))).to.equal(true)
    const dNames = [...readSafetensors(path.join(out.discriminator, 'model.safetensors')).tensors.keys()]
    expect(dNames).to.include.members(['electra.embeddings.word_embeddings.weight', 'electra.embeddings.token_type_embeddings.weight', 'electra.embeddings_project.bias', 'electra.encoder.layer.1.attention.self.query.weight', 'discriminator_predictions.dense.weight'])
    expect(dNames.filter((k) => k.endsWith('._weight') || k.startsWith('generator_'))).to.deep.equal([])
    const gNames = [...readSafetensors(path.join(out.generator, 'model.safetensors')).tensors.keys()]
    expect(gNames).to.include.members(['generator_predictions.dense.weight', 'generator_predictions.LayerNorm.weight', 'generator_lm_head.bias', 'electra.embeddings.position_embeddings.weight'])
    expect(gNames.some((k) => k.includes('embeddings_project'))).to.equal(false)

    const d = readElectraFolder({dir: out.discriminator})
    const g = readElectraFolder({dir: out.generator})
    expect([d.role, g.role]).to.deep.equal(['discriminator', 'generator'])
    const b = newPair({discriminator: d.config, generator: g.config, sharing: 'gdes', seed: 7, maskTokenId: 4})
    b.loadTensors({generator: g.tensors, discriminator: d.tensors})
    expect(lossOf(b)).to.be.closeTo(lossOf(a), 1e-4)
    const n = newPair({discriminator: d.config, generator: g.config, sharing: 'nes', seed: 7, maskTokenId: 4})
    n.loadTensors({generator: g.tensors, discriminator: d.tensors})
    expect(lossOf(n)).to.be.closeTo(lossOf(a), 1e-4)
    for (const p of [a, b, n]) p.dispose()
  })

  it('rejects weights with missing, unexpected or wrongly shaped tensors, and unequal tables under sharing', () => {
    const pair = makePair('nes')
    const t = pair.exportGeneratorTensors()
    t.delete('generator_lm_head.bias')
    t.set('electra.encoder.layer.0.attention.self.bogus', {shape: [1], data: new Float32Array(1)})
    expect(() => pair.generator.loadTensors(t)).to.throw(/missing: generator_lm_head.bias.*unexpected: electra.encoder.layer.0.attention.self.bogus/)
    pair.dispose()
    expect(() => newPair({discriminator: disc(), generator: gen({max_position_embeddings: 8}), sharing: 'gdes', seed: 1, maskTokenId: 4})).to.throw(ConfigError, /positions 8/)
  })
})
