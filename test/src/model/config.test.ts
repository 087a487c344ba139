import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import * as path from 'node:path'

import {ConfigError} from '../../../src/errors.js'
import {generatorConfig, maxRelativePositions, parseHfConfig, relativeSpan, toHfConfig} from '../../../src/model/config.js'
import {tinyFixture} from './fixture-path.js'

const HUB_BASE = {
  model_type: 'deberta-v2', attention_probs_dropout_prob: 0.1, hidden_act: 'gelu', hidden_dropout_prob: 0.1, hidden_size: 768,
  initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 512, relative_attention: true, position_buckets: 256,
  norm_rel_ebd: 'layer_norm', share_att_key: true, pos_att_type: 'p2c|c2p', layer_norm_eps: 1e-7, max_relative_positions: -1,
  position_biased_input: false, num_attention_heads: 12, num_hidden_layers: 12, type_vocab_size: 0, vocab_size: 128100,
}

describe('model config', () => {
  it('reads the deberta-v3-base hub config (SPEC B.1.1)', () => {
    const c = parseHfConfig({json: HUB_BASE})
    expect(c.posAttType).to.deep.equal(['p2c', 'c2p'])
    expect(c.embeddingSize).to.equal(768)
    expect(c.normRelEmbedding).to.equal(true)
    expect(maxRelativePositions(c)).to.equal(512) // -1 => max_position_embeddings
    expect(relativeSpan(c)).to.equal(256)
  })

  it('applies the HF defaults for absent fields', () => {
    const c = parseHfConfig({json: {hidden_size: 64, num_attention_heads: 4}})
    expect(c.positionBiasedInput).to.equal(true)
    expect(c.relativeAttention).to.equal(false)
    expect(c.shareAttKey).to.equal(false)
    expect(c.posAttType).to.deep.equal([])
    expect(c.vocabSize).to.equal(128100)
    expect(c.layerNormEps).to.equal(1e-7)
    expect(relativeSpan(c)).to.equal(512) // no buckets: P
  })

  it('accepts pos_att_type as a list', () => {
    expect(parseHfConfig({json: {...HUB_BASE, pos_att_type: ['c2p']}}).posAttType).to.deep.equal(['c2p'])
  })

  it('rejects the ConvLayer, non-gelu activations, p2p and a bad head split with ConfigError', () => {
    const bad: Record<string, unknown>[] = [{conv_kernel_size: 3}, {hidden_act: 'gelu_new'}, {pos_att_type: 'p2c|p2p'}, {num_attention_heads: 7}, {attention_head_size: 32}]
    for (const b of bad) expect(() => parseHfConfig({json: {...HUB_BASE, ...b}}), JSON.stringify(b)).to.throw(ConfigError)
  })

  it('round-trips through config.json, keeping unknown fields and omitting embedding_size = hidden_size', () => {
    const json = {...HUB_BASE, pooler_dropout: 0, some_future_field: 'x'}
    const out = toHfConfig(parseHfConfig({json}))
    expect(out).to.not.have.property('embedding_size')
    expect(out.some_future_field).to.equal('x')
    expect(parseHfConfig({json: out})).to.deep.equal(parseHfConfig({json}))
    const proj = toHfConfig(parseHfConfig({json: {...HUB_BASE, embedding_size: 128}}))
    expect(proj.embedding_size).to.equal(128)
  })

  it('reads the tiny fixture configs', () => {
    const c = parseHfConfig({json: JSON.parse(readFileSync(path.join(tinyFixture, 'config.json'), 'utf8'))})
    expect([c.hiddenSize, c.numHiddenLayers, c.positionBuckets, maxRelativePositions(c)]).to.deep.equal([64, 2, 16, 128])
  })
})

describe('generatorConfig', () => {
  const disc = parseHfConfig({json: HUB_BASE})
  it('halves the depth by default and keeps the width', () => {
    const g = generatorConfig({discriminator: disc})
    expect([g.numHiddenLayers, g.hiddenSize, g.numAttentionHeads, g.embeddingSize]).to.deep.equal([6, 768, 12, 768])
  })
  it('shrinks width ELECTRA-style but keeps the shared embedding width', () => {
    const g = generatorConfig({discriminator: disc, depth: 1, width: 0.25})
    expect([g.numHiddenLayers, g.hiddenSize, g.numAttentionHeads, g.intermediateSize, g.embeddingSize]).to.deep.equal([12, 192, 3, 768, 768])
  })
  it('rejects a width above 1', () => {
    expect(() => generatorConfig({discriminator: disc, width: 2})).to.throw(ConfigError)
  })
})
