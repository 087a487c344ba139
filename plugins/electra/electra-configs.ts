/** ELECTRA's configs (src/model/electra/config.ts) through the architecture contract: pure functions, no tensors. */
import type {ArchitectureConfigs} from '../../src/plugin/architecture.js'
import type {PluginProblem} from '../../src/plugin/contract.js'
import {electraGeneratorConfig, parseElectraConfig, toElectraHfConfig, type ElectraConfig} from '../../src/model/electra/config.js'
import {electraEncoderShape} from '../../src/model/electra/encoder-shape.js'

export const electraConfigs: ArchitectureConfigs<ElectraConfig> = {
  parse: (json, where) => parseElectraConfig({json, where}),
  toHf: (config) => toElectraHfConfig(config),
  fromScratch: (options, tokenizerVocabSize) => parseElectraConfig({json: {...options, vocab_size: options.vocab_size ?? tokenizerVocabSize}, where: 'model.config'}),
  // ELECTRA's smaller generator: width scales hidden size, heads and FFN; the shared tables keep
  // embedding_size (each model projects them to its own hidden size)
  generator: (discriminator, shape) => electraGeneratorConfig({discriminator, width: shape.width, depth: shape.depth}),
  facts: (c) => ({vocabSize: c.vocabSize, embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize, numHiddenLayers: c.numHiddenLayers, maxPositions: c.maxPositionEmbeddings, padTokenId: c.padTokenId}),
  shape: electraEncoderShape,
}

/** `model.config` checks from the pipeline text alone (the full ones run once the tokenizer exists). */
export function checkElectraConfig(options: Record<string, unknown>, pipeline: Record<string, any>): PluginProblem[] {
  const c = options as {vocab_size?: number; hidden_size: number; num_attention_heads: number; max_position_embeddings: number}
  const problems: PluginProblem[] = []
  const trainedVocab = pipeline.data?.tokenizer?.train?.vocab_size
  if (c.vocab_size !== undefined && typeof trainedVocab === 'number' && trainedVocab > c.vocab_size) {
    problems.push({path: 'model.config.vocab_size', message: `${c.vocab_size} rows cannot hold the ${trainedVocab} ids of data.tokenizer.train.vocab_size; raise it or leave it out (it then follows the tokenizer)`})
  }
  const maxLength = pipeline.data?.max_length
  if (typeof maxLength === 'number' && maxLength > c.max_position_embeddings) {
    problems.push({path: 'model.config.max_position_embeddings', message: `${c.max_position_embeddings} is below data.max_length ${maxLength}`})
  }
  if (c.hidden_size % c.num_attention_heads !== 0) {
    problems.push({path: 'model.config.num_attention_heads', message: `${c.num_attention_heads} heads do not divide hidden_size ${c.hidden_size}`})
  }
  return problems
}
