/**
 * src/pretrain export-models: the seed project's save names, and the pair export (SPEC A.9,
 * B.6.4) on a small pair whose E_Δ is not zero: merged table, no `_weight`, heads, tokenizer.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import * as tf from '#tfjs'
import {expect} from 'chai'

import {readSafetensors} from '../../../src/checkpoint/index.js'
import {RtdPair, v3Config, type EmbeddingSharing} from '../../../src/model/index.js'
import {defaultSaveName, exportRtdPair} from '../../../src/pretrain/index.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

const WORD = 'deberta.embeddings.word_embeddings'

describe('pretrain export-models', () => {
  let tmp: string
  before(async () => {
    await initBackend({backend: 'cpu'})
  })
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-export-models-'))
    fs.mkdirSync(path.join(tmp, 'tok'))
    fs.writeFileSync(path.join(tmp, 'tok', 'tokenizer.json'), '{"model": {}}')
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('defaultSaveName follows the seed project (model id + sharing mode)', () => {
    expect(defaultSaveName({from: 'microsoft/deberta-v3-base', pipelineName: 'imdb-gdes', suffix: 'gdes'})).to.equal('deberta_v3_base_gdes')
    expect(defaultSaveName({from: './models/My-Model/', pipelineName: 'x', suffix: 'es'})).to.equal('my_model_es')
    expect(defaultSaveName({pipelineName: 'tiny-gdes', suffix: 'gdes'})).to.equal('tiny_gdes') // no double suffix
    expect(defaultSaveName({pipelineName: 'tiny-mlm', suffix: 'nes'})).to.equal('tiny_mlm_nes')
  })

  function pair(sharing: EmbeddingSharing): RtdPair {
    const cfg = v3Config({vocabSize: 40, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, positionBuckets: 8, maxPositionEmbeddings: 64})
    const p = new RtdPair({architecture: debertaV3, discriminator: cfg, generator: {...cfg, numHiddenLayers: 1}, sharing, seed: 5, maskTokenId: 4})
    const own = p.discriminator.params.vars.get(`${WORD}._weight`)
    if (own) own.assign(tf.randomNormal(own.shape, 0, 0.3, 'float32', 9)) // a trained-looking E_delta
    return p
  }

  it('gdes: E_D = E_G + E_delta (fp32), no _weight, mask_predictions in the discriminator, lm_predictions in the generator', () => {
    const p = pair('gdes')
    try {
      const eG = p.generator.params.vars.get(`${WORD}.weight`)!.dataSync()
      const eDelta = p.discriminator.params.vars.get(`${WORD}._weight`)!.dataSync()
      const out = exportRtdPair({pair: p, dir: path.join(tmp, 'm'), tokenizerDir: path.join(tmp, 'tok')})
      expect(out).to.deep.equal({discriminator: path.join(tmp, 'm'), generator: path.join(tmp, 'm', 'generator')})
      const d = readSafetensors(path.join(tmp, 'm', 'model.safetensors')).tensors
      const eD = d.get(`${WORD}.weight`)!.data
      expect(eD.every((x, i) => x === Math.fround(eG[i] + eDelta[i]))).to.equal(true)
      expect(eD.some((x, i) => x !== eG[i])).to.equal(true)
      expect([...d.keys()].filter((k) => k.endsWith('_weight'))).to.deep.equal([])
      expect([...d.keys()].some((k) => k.startsWith('mask_predictions.'))).to.equal(true)
      expect([...d.keys()].some((k) => k.startsWith('lm_predictions.'))).to.equal(false)
      const g = readSafetensors(path.join(tmp, 'm', 'generator', 'model.safetensors')).tensors
      expect([...g.keys()].some((k) => k.startsWith('lm_predictions.lm_head.'))).to.equal(true)
      expect(Array.from(g.get(`${WORD}.weight`)!.data)).to.deep.equal(Array.from(eG))
      for (const dir of ['m', 'm/generator']) expect(fs.readFileSync(path.join(tmp, dir, 'tokenizer.json'), 'utf8')).to.equal('{"model": {}}')
      const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'm', 'generator', 'config.json'), 'utf8'))
      expect([cfg.num_hidden_layers, cfg.architectures[0]]).to.deep.equal([1, 'DebertaV2ForMaskedLM'])
      // transformers maps lm_predictions.lm_head.* only when legacy is false
      expect(cfg.legacy).to.equal(false)
      expect(JSON.parse(fs.readFileSync(path.join(tmp, 'm', 'config.json'), 'utf8'))).to.not.have.property('legacy')
    } finally {
      p.dispose()
    }
  })

  it('es: the discriminator ships the shared table E_G', () => {
    const p = pair('es')
    try {
      exportRtdPair({pair: p, dir: path.join(tmp, 'm'), tokenizerDir: path.join(tmp, 'tok')})
      const eG = p.generator.params.vars.get(`${WORD}.weight`)!.dataSync()
      const d = readSafetensors(path.join(tmp, 'm', 'model.safetensors')).tensors
      expect(Array.from(d.get(`${WORD}.weight`)!.data)).to.deep.equal(Array.from(eG))
    } finally {
      p.dispose()
    }
  })
})
