import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import * as path from 'node:path'

import {ConfigError} from '../../../../src/errors.js'
import {electraGeneratorConfig, parseElectraConfig, toElectraHfConfig} from '../../../../src/model/electra/config.js'
import {electraEncoderShape} from '../../../../src/model/electra/encoder-shape.js'

import {electraTinyFixture as fixture} from '../fixture-path.js'
const json = (f: string) => JSON.parse(readFileSync(path.join(fixture, f), 'utf8')) as Record<string, unknown>

describe('electra config', () => {
  it('reads the fixture configs (embedding_size != hidden for the discriminator, = for the generator)', () => {
    const d = parseElectraConfig({json: json('config.json')})
    expect(d).to.include({vocabSize: 1000, embeddingSize: 32, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 128, typeVocabSize: 2, layerNormEps: 1e-12})
    expect(d.extra.architectures).to.deep.equal(['ElectraForPreTraining'])
    const g = parseElectraConfig({json: json('generator_config.json')})
    expect(g.hiddenSize).to.equal(g.embeddingSize)
  })

  it("applies HF ElectraConfig's defaults to absent fields", () => {
    const c = parseElectraConfig({json: {model_type: 'electra'}})
    expect(c).to.include({vocabSize: 30522, embeddingSize: 128, hiddenSize: 256, numAttentionHeads: 4, intermediateSize: 1024, maxPositionEmbeddings: 512, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0})
  })

  it('writes config.json back with model_type electra, the role architecture and unknown fields kept', () => {
    const src = {...json('config.json'), summary_type: 'first'}
    const c = parseElectraConfig({json: src})
    const out = toElectraHfConfig(c, {role: 'generator'})
    expect(out.model_type).to.equal('electra')
    expect(out.architectures).to.deep.equal(['ElectraForMaskedLM'])
    expect(out.summary_type).to.equal('first')
    expect(out.embedding_size).to.equal(32)
    expect(parseElectraConfig({json: out})).to.deep.equal({...c, extra: {...c.extra, architectures: ['ElectraForMaskedLM']}})
    expect(Object.keys(out)).to.deep.equal([...Object.keys(out)].sort())
  })

  it('rejects what rtd does not implement, naming the field and file', () => {
    const bad = (over: Record<string, unknown>) => () => parseElectraConfig({json: {...json('config.json'), ...over}, where: 'x/config.json'})
    expect(bad({hidden_act: 'gelu_new'})).to.throw(ConfigError, /x\/config.json: hidden_act "gelu_new"/)
    expect(bad({position_embedding_type: 'relative_key'})).to.throw(ConfigError, /position_embedding_type "relative_key"/)
    expect(bad({num_attention_heads: 5})).to.throw(ConfigError, /not a multiple/)
    expect(bad({model_type: 'bert'})).to.throw(ConfigError, /model_type "bert"/)
  })

  it('derives an ELECTRA-style narrower generator with the same embedding tables', () => {
    const d = parseElectraConfig({json: {model_type: 'electra', hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024, embedding_size: 128}})
    const g = electraGeneratorConfig({discriminator: d})
    expect(g).to.include({hiddenSize: 64, numAttentionHeads: 1, intermediateSize: 256, embeddingSize: 128, numHiddenLayers: 12, vocabSize: d.vocabSize})
  })

  it('gives the memory estimate the encoder shape: absolute positions, no relative buckets, the embedding width', () => {
    const d = parseElectraConfig({json: json('config.json')})
    expect(electraEncoderShape(d)).to.deep.equal({vocab: 1000, hidden: 64, layers: 2, heads: 4, intermediate: 128, embeddingSize: 32, positionBuckets: 0, absolutePositions: 128})
  })
})
