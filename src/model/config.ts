/**
 * DeBERTa-v2/v3 model configuration: the internal (camelCase) config and the conversion to and
 * from Hugging Face `config.json` (SPEC B.1.1). Absent fields take the defaults HF's
 * DebertaV2Config applies (constructor defaults and getattr fallbacks), so a config.json means
 * here what it means in `transformers`. Unknown fields are kept and written back unchanged.
 */
import {ConfigError} from '../errors.js'

export const POS_ATT_TYPES = ['c2p', 'p2c'] as const
export type PosAttType = (typeof POS_ATT_TYPES)[number]

export interface DebertaConfig {
  vocabSize: number
  hiddenSize: number
  numHiddenLayers: number
  numAttentionHeads: number
  intermediateSize: number
  /** Only exact-erf 'gelu' is supported (SPEC B.2.4). */
  hiddenAct: 'gelu'
  hiddenDropoutProb: number
  attentionProbsDropoutProb: number
  maxPositionEmbeddings: number
  typeVocabSize: number
  initializerRange: number
  layerNormEps: number
  relativeAttention: boolean
  /** As written in config.json; < 1 means "use maxPositionEmbeddings" (see maxRelativePositions()). */
  maxRelativePositions: number
  /** S; <= 0 disables log bucketing. */
  positionBuckets: number
  /** Whether the relative-embedding table is LayerNorm'ed (`norm_rel_ebd` contains "layer_norm"). */
  normRelEmbedding: boolean
  shareAttKey: boolean
  posAttType: PosAttType[]
  positionBiasedInput: boolean
  /** Width of the word-embedding table; = hiddenSize unless config.json sets `embedding_size`. */
  embeddingSize: number
  padTokenId: number
  /** Fields of config.json rtd does not interpret, written back unchanged. */
  extra: Record<string, unknown>
}

/** Defaults HF DebertaV2Config applies when a field is absent. */
const HF_DEFAULTS = {
  vocab_size: 128100,
  hidden_size: 1536,
  num_hidden_layers: 24,
  num_attention_heads: 24,
  intermediate_size: 6144,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 0,
  initializer_range: 0.02,
  layer_norm_eps: 1e-7,
  relative_attention: false,
  max_relative_positions: -1,
  pad_token_id: 0,
  position_biased_input: true,
  pos_att_type: null,
  position_buckets: -1,
  norm_rel_ebd: 'none',
  share_att_key: false,
  embedding_size: null,
  conv_kernel_size: 0,
} as const

const KNOWN = new Set([...Object.keys(HF_DEFAULTS), 'model_type', 'attention_head_size'])

/** P of SPEC B.2.2: max_relative_positions, or max_position_embeddings when it is < 1. */
export function maxRelativePositions(cfg: DebertaConfig): number {
  return cfg.maxRelativePositions >= 1 ? cfg.maxRelativePositions : cfg.maxPositionEmbeddings
}

/** Half the number of rows of the relative-embedding table: S, or P when bucketing is off. */
export function relativeSpan(cfg: DebertaConfig): number {
  return cfg.positionBuckets > 0 ? cfg.positionBuckets : maxRelativePositions(cfg)
}

export function headDim(cfg: DebertaConfig): number {
  return cfg.hiddenSize / cfg.numAttentionHeads
}

function num(json: Record<string, unknown>, key: keyof typeof HF_DEFAULTS, where: string): number {
  const v = json[key] ?? HF_DEFAULTS[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${where}: ${key} must be a number, got ${JSON.stringify(v)}`, {code: 'model.config_invalid'})
  }
  return v
}

function int(json: Record<string, unknown>, key: keyof typeof HF_DEFAULTS, where: string, min: number): number {
  const v = num(json, key, where)
  if (!Number.isInteger(v) || v < min) {
    throw new ConfigError(`${where}: ${key} must be an integer >= ${min}, got ${v}`, {code: 'model.config_invalid'})
  }
  return v
}

function bool(json: Record<string, unknown>, key: keyof typeof HF_DEFAULTS, where: string): boolean {
  const v = json[key] ?? HF_DEFAULTS[key]
  if (typeof v !== 'boolean') {
    throw new ConfigError(`${where}: ${key} must be true or false, got ${JSON.stringify(v)}`, {code: 'model.config_invalid'})
  }
  return v
}

function parsePosAttType(v: unknown, where: string): PosAttType[] {
  if (v === null || v === undefined) return []
  const parts = typeof v === 'string' ? v.toLowerCase().split('|') : Array.isArray(v) ? v.map(String) : null
  if (parts === null) {
    throw new ConfigError(`${where}: pos_att_type must be a "p2c|c2p" string or a list, got ${JSON.stringify(v)}`, {code: 'model.config_invalid'})
  }
  const out: PosAttType[] = []
  for (const p of parts.map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0)) {
    if (!(POS_ATT_TYPES as readonly string[]).includes(p)) {
      throw new ConfigError(`${where}: pos_att_type ${JSON.stringify(p)} is not supported; DeBERTa-v2/v3 uses ${POS_ATT_TYPES.join(', ')}`, {
        code: 'model.config_unsupported',
      })
    }
    if (!out.includes(p as PosAttType)) out.push(p as PosAttType)
  }
  return out
}

/**
 * Reads a Hugging Face DeBERTa-v2 `config.json` object. Rejects what rtd does not implement
 * (ConvLayer, activations other than gelu, attention_head_size != hidden/heads).
 * @param opts.where names the source in error messages (e.g. the file path).
 */
export function parseHfConfig(opts: {json: Record<string, unknown>; where?: string}): DebertaConfig {
  const {json} = opts
  const where = opts.where ?? 'config.json'
  const hiddenAct = json.hidden_act ?? HF_DEFAULTS.hidden_act
  if (hiddenAct !== 'gelu') {
    throw new ConfigError(`${where}: hidden_act ${JSON.stringify(hiddenAct)} is not supported; rtd implements only the exact-erf "gelu" of DeBERTa-v3`, {
      code: 'model.config_unsupported',
    })
  }
  const conv = json.conv_kernel_size ?? 0
  if (typeof conv !== 'number' || conv > 0) {
    throw new ConfigError(`${where}: conv_kernel_size ${JSON.stringify(conv)} asks for the ConvLayer of DeBERTa-v2-xlarge, which rtd does not implement (v3 models have none)`, {
      code: 'model.config_unsupported',
    })
  }
  const hidden = int(json, 'hidden_size', where, 1)
  const heads = int(json, 'num_attention_heads', where, 1)
  if (hidden % heads !== 0) {
    throw new ConfigError(`${where}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`, {code: 'model.config_invalid'})
  }
  const ahs = json.attention_head_size
  if (ahs !== undefined && ahs !== null && ahs !== hidden / heads) {
    throw new ConfigError(`${where}: attention_head_size ${JSON.stringify(ahs)} differs from hidden_size/num_attention_heads = ${hidden / heads}; not supported`, {
      code: 'model.config_unsupported',
    })
  }
  const emb = json.embedding_size ?? null
  if (emb !== null && (typeof emb !== 'number' || !Number.isInteger(emb) || emb < 1)) {
    throw new ConfigError(`${where}: embedding_size must be a positive integer, got ${JSON.stringify(emb)}`, {code: 'model.config_invalid'})
  }
  const normRel = String(json.norm_rel_ebd ?? HF_DEFAULTS.norm_rel_ebd)
  const extra: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(json)) if (!KNOWN.has(k)) extra[k] = v
  return {
    vocabSize: int(json, 'vocab_size', where, 1),
    hiddenSize: hidden,
    numHiddenLayers: int(json, 'num_hidden_layers', where, 0),
    numAttentionHeads: heads,
    intermediateSize: int(json, 'intermediate_size', where, 1),
    hiddenAct: 'gelu',
    hiddenDropoutProb: num(json, 'hidden_dropout_prob', where),
    attentionProbsDropoutProb: num(json, 'attention_probs_dropout_prob', where),
    maxPositionEmbeddings: int(json, 'max_position_embeddings', where, 1),
    typeVocabSize: int(json, 'type_vocab_size', where, 0),
    initializerRange: num(json, 'initializer_range', where),
    layerNormEps: num(json, 'layer_norm_eps', where),
    relativeAttention: bool(json, 'relative_attention', where),
    maxRelativePositions: num(json, 'max_relative_positions', where),
    positionBuckets: num(json, 'position_buckets', where),
    normRelEmbedding: normRel.toLowerCase().split('|').map((s) => s.trim()).includes('layer_norm'),
    shareAttKey: bool(json, 'share_att_key', where),
    posAttType: parsePosAttType(json.pos_att_type ?? HF_DEFAULTS.pos_att_type, where),
    positionBiasedInput: bool(json, 'position_biased_input', where),
    embeddingSize: (emb as number | null) ?? hidden,
    padTokenId: int(json, 'pad_token_id', where, 0),
    extra,
  }
}

/** Writes the config.json object HF loads back to the same model (v3 field set, sorted keys). */
export function toHfConfig(cfg: DebertaConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...cfg.extra,
    model_type: 'deberta-v2',
    attention_probs_dropout_prob: cfg.attentionProbsDropoutProb,
    hidden_act: cfg.hiddenAct,
    hidden_dropout_prob: cfg.hiddenDropoutProb,
    hidden_size: cfg.hiddenSize,
    initializer_range: cfg.initializerRange,
    intermediate_size: cfg.intermediateSize,
    layer_norm_eps: cfg.layerNormEps,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    max_relative_positions: cfg.maxRelativePositions,
    norm_rel_ebd: cfg.normRelEmbedding ? 'layer_norm' : 'none',
    num_attention_heads: cfg.numAttentionHeads,
    num_hidden_layers: cfg.numHiddenLayers,
    pad_token_id: cfg.padTokenId,
    pos_att_type: cfg.posAttType.length > 0 ? cfg.posAttType.join('|') : null,
    position_biased_input: cfg.positionBiasedInput,
    position_buckets: cfg.positionBuckets,
    relative_attention: cfg.relativeAttention,
    share_att_key: cfg.shareAttKey,
    type_vocab_size: cfg.typeVocabSize,
    vocab_size: cfg.vocabSize,
  }
  // Hub v3 configs omit embedding_size (absent => hidden_size).
  if (cfg.embeddingSize !== cfg.hiddenSize) out.embedding_size = cfg.embeddingSize
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** A DeBERTa-v3 config (hub field set of SPEC B.1.1) with overrides, for tests and from-scratch models. */
export function v3Config(overrides: Partial<DebertaConfig> = {}): DebertaConfig {
  const base = parseHfConfig({
    json: {
      attention_probs_dropout_prob: 0.1,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: 768,
      initializer_range: 0.02,
      intermediate_size: 3072,
      max_position_embeddings: 512,
      relative_attention: true,
      position_buckets: 256,
      norm_rel_ebd: 'layer_norm',
      share_att_key: true,
      pos_att_type: 'p2c|c2p',
      layer_norm_eps: 1e-7,
      max_relative_positions: -1,
      position_biased_input: false,
      num_attention_heads: 12,
      num_hidden_layers: 12,
      type_vocab_size: 0,
      vocab_size: 128100,
    },
  })
  const c = {...base, ...overrides}
  // embedding_size follows hidden_size unless set, as when it is absent from config.json.
  if (overrides.embeddingSize === undefined) c.embeddingSize = c.hiddenSize
  return c
}

/**
 * The generator's config from the discriminator's (SPEC A.2, B.1.2): same width and heads, `depth`
 * times the layers (default 0.5: DeBERTa-v3's half-depth generator). `width` < 1 shrinks hidden
 * size, FFN and heads ELECTRA-style; the word-embedding width stays the discriminator's so the
 * tables can be shared (an `embed_proj` then maps it to the smaller hidden size).
 */
export function generatorConfig(opts: {discriminator: DebertaConfig; depth?: number; width?: number}): DebertaConfig {
  const d = opts.discriminator
  const depth = opts.depth ?? 0.5
  const width = opts.width ?? 1
  if (!(depth > 0) || !(width > 0) || width > 1) {
    throw new ConfigError(`generator depth must be > 0 and width in (0, 1], got depth ${depth}, width ${width}`, {code: 'model.generator_size'})
  }
  const layers = Math.max(1, Math.round(d.numHiddenLayers * depth))
  if (width === 1) return {...d, numHiddenLayers: layers, extra: {...d.extra}}
  const headDimD = headDim(d)
  const heads = Math.max(1, Math.round(d.numAttentionHeads * width))
  return {
    ...d,
    numHiddenLayers: layers,
    numAttentionHeads: heads,
    hiddenSize: heads * headDimD,
    intermediateSize: Math.max(1, Math.round(d.intermediateSize * width)),
    embeddingSize: d.embeddingSize,
    extra: {...d.extra},
  }
}
