/**
 * ELECTRA model configuration: the internal (camelCase) config and the conversion to and from a
 * Hugging Face `config.json` with `model_type: electra` (the wire format). Absent fields take the
 * defaults of HF's ElectraConfig, so a config.json means here what it means in `transformers`.
 * Unknown fields are kept and written back unchanged.
 */
import {ConfigError} from '../../errors.js'

export interface ElectraConfig {
  vocabSize: number
  /** Width of the three embedding tables; an `embeddings_project` maps it to hiddenSize when they differ. */
  embeddingSize: number
  hiddenSize: number
  numHiddenLayers: number
  numAttentionHeads: number
  intermediateSize: number
  /** Only the exact-erf 'gelu' is supported. */
  hiddenAct: 'gelu'
  hiddenDropoutProb: number
  attentionProbsDropoutProb: number
  maxPositionEmbeddings: number
  typeVocabSize: number
  initializerRange: number
  layerNormEps: number
  padTokenId: number
  /** Fields of config.json rtd does not interpret (architectures included), written back unchanged. */
  extra: Record<string, unknown>
}

/** HF ElectraConfig constructor defaults, used when a field is absent. */
const HF_DEFAULTS = {
  vocab_size: 30522,
  embedding_size: 128,
  hidden_size: 256,
  num_hidden_layers: 12,
  num_attention_heads: 4,
  intermediate_size: 1024,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
} as const

type Field = keyof typeof HF_DEFAULTS
const KNOWN = new Set<string>([...Object.keys(HF_DEFAULTS), 'model_type'])

/** The HF class names of the two RTD roles (config.json `architectures`). */
export const ELECTRA_ARCHITECTURES = {generator: 'ElectraForMaskedLM', discriminator: 'ElectraForPreTraining'} as const

/** Whether a config.json object describes an ELECTRA model. */
export function isElectraHfConfig(json: Record<string, unknown>): boolean {
  return json.model_type === 'electra'
}

function num(json: Record<string, unknown>, key: Field, where: string): number {
  const v = json[key] ?? HF_DEFAULTS[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${where}: ${key} must be a number, got ${JSON.stringify(v)}`, {code: 'model.config_invalid'})
  }
  return v
}

function int(json: Record<string, unknown>, key: Field, where: string, min: number): number {
  const v = num(json, key, where)
  if (!Number.isInteger(v) || v < min) {
    throw new ConfigError(`${where}: ${key} must be an integer >= ${min}, got ${v}`, {code: 'model.config_invalid'})
  }
  return v
}

/**
 * Reads a Hugging Face ELECTRA `config.json` object. Rejects what rtd does not implement
 * (activations other than the exact-erf gelu, relative position embeddings).
 * @param opts.where names the source in error messages (e.g. the file path).
 */
export function parseElectraConfig(opts: {json: Record<string, unknown>; where?: string}): ElectraConfig {
  const {json} = opts
  const where = opts.where ?? 'config.json'
  if (json.model_type !== undefined && json.model_type !== 'electra') {
    throw new ConfigError(`${where}: model_type ${JSON.stringify(json.model_type)} is not an ELECTRA config (expected "electra")`, {code: 'model.config_invalid'})
  }
  const act = json.hidden_act ?? HF_DEFAULTS.hidden_act
  if (act !== 'gelu') {
    throw new ConfigError(`${where}: hidden_act ${JSON.stringify(act)} is not supported; rtd implements only the exact-erf "gelu"`, {code: 'model.config_unsupported'})
  }
  const posType = json.position_embedding_type ?? HF_DEFAULTS.position_embedding_type
  if (posType !== 'absolute') {
    throw new ConfigError(`${where}: position_embedding_type ${JSON.stringify(posType)} is not supported; rtd implements ELECTRA's "absolute" positions`, {
      code: 'model.config_unsupported',
    })
  }
  const hidden = int(json, 'hidden_size', where, 1)
  const heads = int(json, 'num_attention_heads', where, 1)
  if (hidden % heads !== 0) {
    throw new ConfigError(`${where}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`, {code: 'model.config_invalid'})
  }
  const extra: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(json)) if (!KNOWN.has(k)) extra[k] = v
  return {
    vocabSize: int(json, 'vocab_size', where, 1),
    embeddingSize: int(json, 'embedding_size', where, 1),
    hiddenSize: hidden,
    numHiddenLayers: int(json, 'num_hidden_layers', where, 0),
    numAttentionHeads: heads,
    intermediateSize: int(json, 'intermediate_size', where, 1),
    hiddenAct: 'gelu',
    hiddenDropoutProb: num(json, 'hidden_dropout_prob', where),
    attentionProbsDropoutProb: num(json, 'attention_probs_dropout_prob', where),
    maxPositionEmbeddings: int(json, 'max_position_embeddings', where, 1),
    typeVocabSize: int(json, 'type_vocab_size', where, 1),
    initializerRange: num(json, 'initializer_range', where),
    layerNormEps: num(json, 'layer_norm_eps', where),
    padTokenId: int(json, 'pad_token_id', where, 0),
    extra,
  }
}

/**
 * Writes the config.json object HF loads back to the same model (sorted keys).
 * @param opts.role sets `architectures` to the HF class of that role (ElectraForMaskedLM / ElectraForPreTraining).
 */
export function toElectraHfConfig(cfg: ElectraConfig, opts: {role?: 'generator' | 'discriminator'} = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...cfg.extra,
    model_type: 'electra',
    attention_probs_dropout_prob: cfg.attentionProbsDropoutProb,
    embedding_size: cfg.embeddingSize,
    hidden_act: cfg.hiddenAct,
    hidden_dropout_prob: cfg.hiddenDropoutProb,
    hidden_size: cfg.hiddenSize,
    initializer_range: cfg.initializerRange,
    intermediate_size: cfg.intermediateSize,
    layer_norm_eps: cfg.layerNormEps,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    num_attention_heads: cfg.numAttentionHeads,
    num_hidden_layers: cfg.numHiddenLayers,
    pad_token_id: cfg.padTokenId,
    position_embedding_type: 'absolute',
    type_vocab_size: cfg.typeVocabSize,
    vocab_size: cfg.vocabSize,
  }
  if (opts.role) out.architectures = [ELECTRA_ARCHITECTURES[opts.role]]
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Head dimension d = hidden / heads. */
export function electraHeadDim(cfg: ElectraConfig): number {
  return cfg.hiddenSize / cfg.numAttentionHeads
}

/**
 * The generator's config from the discriminator's, ELECTRA-style: `width` (default 0.25, ELECTRA's
 * generator size) shrinks hidden size, FFN and heads; `depth` (default 1) scales the layers. The
 * embedding tables keep the discriminator's shape so they can be shared.
 */
export function electraGeneratorConfig(opts: {discriminator: ElectraConfig; width?: number; depth?: number}): ElectraConfig {
  const d = opts.discriminator
  const width = opts.width ?? 0.25
  const depth = opts.depth ?? 1
  if (!(depth > 0) || !(width > 0) || width > 1) {
    throw new ConfigError(`generator depth must be > 0 and width in (0, 1], got depth ${depth}, width ${width}`, {code: 'model.generator_size'})
  }
  const headDim = electraHeadDim(d)
  const heads = Math.max(1, Math.round(d.numAttentionHeads * width))
  return {
    ...d,
    numHiddenLayers: Math.max(1, Math.round(d.numHiddenLayers * depth)),
    numAttentionHeads: heads,
    hiddenSize: heads * headDim,
    intermediateSize: Math.max(1, Math.round(d.intermediateSize * width)),
    extra: {...d.extra},
  }
}
