/**
 * DeBERTa-v3's configs (src/model/config.ts) seen through the architecture contract: pure
 * functions, no tensors, so `rtd validate` and `rtd plan` can use them without TensorFlow.js.
 */
import type {ArchitectureConfigs, GeneratorShape} from '../../src/plugin/architecture.js'
import type {PluginProblem} from '../../src/plugin/contract.js'
import {parseHfConfig, toHfConfig, v3Config, type DebertaConfig} from '../../src/model/config.js'
import {encoderShapeOf} from '../../src/model/encoder-shape.js'

/** `model.config` (HF config.json names; defaults from schema.json). */
export interface DebertaScratchConfig {
  vocab_size?: number
  hidden_size: number
  num_hidden_layers: number
  num_attention_heads: number
  intermediate_size: number
  max_position_embeddings: number
  position_buckets: number
  hidden_dropout_prob: number
  attention_probs_dropout_prob: number
  initializer_range: number
}

/** Generator config derived from the discriminator's (SPEC A.2). */
export function debertaGeneratorConfig(disc: DebertaConfig, shape: GeneratorShape): DebertaConfig {
  const layers = Math.max(1, Math.round(disc.numHiddenLayers * shape.depth))
  if (shape.width === 1) return {...disc, numHiddenLayers: layers}
  const headDim = disc.hiddenSize / disc.numAttentionHeads
  const heads = Math.max(1, Math.round(disc.numAttentionHeads * shape.width))
  // the word table stays the discriminator's width so that it can be shared (embed_proj maps it)
  return {...disc, numHiddenLayers: layers, numAttentionHeads: heads, hiddenSize: heads * headDim, intermediateSize: Math.max(1, Math.round(disc.intermediateSize * shape.width)), embeddingSize: disc.embeddingSize}
}

export const debertaV3Configs: ArchitectureConfigs<DebertaConfig> = {
  parse: (json, where) => parseHfConfig({json, where}),
  toHf: (config) => toHfConfig(config),
  fromScratch(options, tokenizerVocabSize) {
    const c = options as unknown as DebertaScratchConfig
    return v3Config({
      vocabSize: c.vocab_size ?? tokenizerVocabSize,
      hiddenSize: c.hidden_size,
      numHiddenLayers: c.num_hidden_layers,
      numAttentionHeads: c.num_attention_heads,
      intermediateSize: c.intermediate_size,
      maxPositionEmbeddings: c.max_position_embeddings,
      positionBuckets: c.position_buckets,
      hiddenDropoutProb: c.hidden_dropout_prob,
      attentionProbsDropoutProb: c.attention_probs_dropout_prob,
      initializerRange: c.initializer_range,
      embeddingSize: c.hidden_size,
    })
  },
  generator: debertaGeneratorConfig,
  facts: (c) => ({vocabSize: c.vocabSize, embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize, numHiddenLayers: c.numHiddenLayers, maxPositions: c.maxPositionEmbeddings, padTokenId: c.padTokenId}),
  shape: encoderShapeOf,
}

/**
 * What can be checked from the pipeline text alone, before any work (the full check runs again
 * once the tokenizer exists): a tokenizer trained to more ids than `vocab_size`,
 * `data.max_length` past `max_position_embeddings`, heads that do not divide the width.
 */
export function checkDebertaConfig(options: Record<string, unknown>, pipeline: Record<string, any>): PluginProblem[] {
  const config = options as unknown as DebertaScratchConfig
  const problems: PluginProblem[] = []
  const trainedVocab = pipeline.data?.tokenizer?.train?.vocab_size
  if (config.vocab_size !== undefined && typeof trainedVocab === 'number' && trainedVocab > config.vocab_size) {
    problems.push({path: 'model.config.vocab_size', message: `${config.vocab_size} rows cannot hold the ${trainedVocab} ids of data.tokenizer.train.vocab_size; raise it or leave it out (it then follows the tokenizer)`})
  }
  const maxLength = pipeline.data?.max_length
  if (typeof maxLength === 'number' && maxLength > config.max_position_embeddings) {
    problems.push({path: 'model.config.max_position_embeddings', message: `${config.max_position_embeddings} is below data.max_length ${maxLength}`})
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    problems.push({path: 'model.config.num_attention_heads', message: `${config.num_attention_heads} heads do not divide hidden_size ${config.hidden_size}`})
  }
  return problems
}
