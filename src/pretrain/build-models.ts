/**
 * Builds the model stage's networks from the plugin options: from scratch (`config`) or from a
 * Hugging Face checkpoint (`from`), with the generator derived from the discriminator
 * (SPEC A.2: same width and heads, half the depth by default; a width factor ELECTRA-style).
 *
 * Checks up front (SPEC A.10): the tokenizer's ids fit the model's vocabulary, and the special
 * ids the masking writes exist in it.
 */
import {ConfigError} from '../errors.js'
import {loadModelFolder} from '../checkpoint/index.js'
import type {SpecialTokenIds} from '../data/prepared-data.js'
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

/** The tokenizer must fit the model: every id it emits is a row of the word table (SPEC A.10). */
export function checkTokenizerFitsModel(opts: {config: DebertaConfig; tokenizerVocabSize: number; special: SpecialTokenIds; maxLength: number; where: string}): void {
  const {config, tokenizerVocabSize, special, maxLength, where} = opts
  if (tokenizerVocabSize > config.vocabSize) {
    throw new ConfigError(`${where}: the tokenizer emits ${tokenizerVocabSize} ids but the model's vocab_size is ${config.vocabSize}`, {
      code: 'model.vocab_mismatch',
      suggestions: ['Use the tokenizer that belongs to the checkpoint (data.tokenizer.from: <the same model>)', 'or train from scratch with model.config.vocab_size >= the tokenizer size'],
    })
  }
  for (const [name, id] of Object.entries(special)) {
    if (!(id >= 0 && id < config.vocabSize)) {
      throw new ConfigError(`${where}: the tokenizer's [${name.toUpperCase()}] id ${id} is outside the model's vocabulary (0..${config.vocabSize - 1})`, {code: 'model.special_id'})
    }
  }
  if (special.pad !== config.padTokenId) {
    throw new ConfigError(`${where}: the tokenizer's [PAD] id ${special.pad} differs from the model's pad_token_id ${config.padTokenId}`, {code: 'model.pad_mismatch'})
  }
  if (!config.relativeAttention || config.positionBiasedInput) {
    if (maxLength > config.maxPositionEmbeddings) {
      throw new ConfigError(`${where}: data.max_length ${maxLength} exceeds the model's max_position_embeddings ${config.maxPositionEmbeddings}`, {code: 'model.too_long'})
    }
  }
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
