/**
 * Builds the model stage's networks from the plugin options: from scratch (`config`) or from a
 * Hugging Face checkpoint (`from`), with the generator derived from the discriminator
 * (SPEC A.2: same width and heads, half the depth by default; a width factor ELECTRA-style).
 */
import {ConfigError} from '../errors.js'
import {loadModelFolder} from '../checkpoint/index.js'
import {checkTokenizerFitsModel} from '../data/check-tokenizer-fit.js'
import type {PreparedData} from '../data/prepared-data.js'
import {parseHfConfig, v3Config, type DebertaConfig} from '../model/index.js'

/** `config:` of a model plugin (HF config.json field names, so users can paste from the hub). */
export interface ScratchConfigOptions {
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

export interface GeneratorShape {
  /** Fraction of the discriminator's layers (rounded, at least 1). */
  depth: number
  /** Fraction of the discriminator's hidden size and FFN width (heads scale along). */
  width: number
}

/** The discriminator config: from the checkpoint folder's config.json or from `config:`. */
export function discriminatorConfig(opts: {scratch?: ScratchConfigOptions; folderConfig?: Record<string, unknown>; folder?: string; tokenizerVocabSize: number}): DebertaConfig {
  if (opts.folderConfig) return parseHfConfig({json: opts.folderConfig, where: `${opts.folder}/config.json`})
  const c = opts.scratch
  if (!c) throw new ConfigError('model: give either `from` (a checkpoint) or `config` (train from scratch)', {code: 'model.no_source'})
  return v3Config({
    vocabSize: c.vocab_size ?? opts.tokenizerVocabSize,
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
}

/** Generator config derived from the discriminator's (SPEC A.2). */
export function generatorConfig(disc: DebertaConfig, shape: GeneratorShape): DebertaConfig {
  const layers = Math.max(1, Math.round(disc.numHiddenLayers * shape.depth))
  if (shape.width === 1) return {...disc, numHiddenLayers: layers}
  const headDim = disc.hiddenSize / disc.numAttentionHeads
  const heads = Math.max(1, Math.round(disc.numAttentionHeads * shape.width))
  // the word table stays the discriminator's width so that it can be shared (embed_proj maps it)
  return {...disc, numHiddenLayers: layers, numAttentionHeads: heads, hiddenSize: heads * headDim, intermediateSize: Math.max(1, Math.round(disc.intermediateSize * shape.width)), embeddingSize: disc.embeddingSize}
}

export interface CheckpointTensors {
  discriminator?: ReturnType<typeof loadModelFolder>['tensors']
  generator?: ReturnType<typeof loadModelFolder>['tensors']
  notes: string[]
}

/**
 * Generator weights for a pair built `from` a discriminator checkpoint: a separate generator
 * checkpoint when given, else the discriminator's first layers (and its embeddings), which is
 * how a same-width, half-depth generator is usually warm-started.
 */
export function generatorTensorsFromDiscriminator(disc: Map<string, {shape: number[]; data: Float32Array | Int32Array}>, generatorLayers: number): Map<string, {shape: number[]; data: Float32Array | Int32Array}> {
  const out = new Map<string, {shape: number[]; data: Float32Array | Int32Array}>()
  for (const [k, v] of disc) {
    if (k.startsWith('mask_predictions.') || k.endsWith('._weight')) continue
    const m = /^(?:deberta\.)?encoder\.layer\.(\d+)\./.exec(k)
    if (m && Number(m[1]) >= generatorLayers) continue
    out.set(k, v)
  }
  return out
}

/** SPEC A.10 before any step: the tokenizer's ids and the data's length fit the model. */
export function tokenizerFitsModel(opts: {config: DebertaConfig; data: PreparedData}): void {
  const {config, data} = opts
  checkTokenizerFitsModel({
    tokenizerVocabSize: data.tokenizer.vocabSize,
    special: data.tokenizer.special,
    modelVocabSize: config.vocabSize,
    maxLength: data.maxLength,
    maxPositions: config.maxPositionEmbeddings,
    padTokenId: config.padTokenId,
  })
}

/**
 * What can be checked from the pipeline text alone, before any work (the full check runs again
 * once the tokenizer exists): a tokenizer trained to more ids than `model.config.vocab_size`,
 * `data.max_length` past `model.config.max_position_embeddings`, heads that do not divide the
 * width, and a checkpoint together with a scratch config.
 */
export function checkModelSection(opts: {config?: ScratchConfigOptions; from?: string; pipeline: Record<string, any>}): {path: string; message: string}[] {
  const problems: {path: string; message: string}[] = []
  const {config, pipeline} = opts
  if (config && opts.from) problems.push({path: 'model.config', message: 'give either `from` (start from a checkpoint) or `config` (train from scratch), not both'})
  if (!config) return problems
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
