// An external rtd architecture plugin (docs/plugins.md): a small BERT-style encoder.
//
// This file is what `rtd validate` / `rtd plugins` load: the plugin object with the JSON Schema of
// `model.config` and pure config functions. The networks (and TensorFlow.js) load only when a
// run needs them, through load().

/** Hugging Face BertConfig defaults for the fields this example reads. */
const DEFAULTS = {vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12, initializer_range: 0.02, pad_token_id: 0}

/** config.json (HF names) -> the config object the networks take (here: the same names, defaults filled in). */
function parse(json, where) {
  const c = {...DEFAULTS, ...json}
  for (const k of Object.keys(DEFAULTS)) {
    if (typeof c[k] !== 'number' || !(c[k] >= 0)) throw new Error(`${where}: ${k} must be a non-negative number, got ${JSON.stringify(c[k])}`)
  }
  if (c.hidden_size % c.num_attention_heads !== 0) throw new Error(`${where}: ${c.num_attention_heads} heads do not divide hidden_size ${c.hidden_size}`)
  return c
}

const configs = {
  parse,
  toHf: (c) => ({model_type: 'bert', ...c}),
  fromScratch: (options, tokenizerVocabSize) => parse({...options, vocab_size: options.vocab_size ?? tokenizerVocabSize}, 'model.config'),
  // BERT has no embedding projection: a shared table must keep the hidden width, so the
  // generator is the discriminator with fewer layers (check() refuses generator.width < 1)
  generator: (d, shape) => ({...d, num_hidden_layers: Math.max(1, Math.round(d.num_hidden_layers * shape.depth))}),
  facts: (c) => ({vocabSize: c.vocab_size, embeddingSize: c.hidden_size, hiddenSize: c.hidden_size, numHiddenLayers: c.num_hidden_layers, maxPositions: c.max_position_embeddings, padTokenId: c.pad_token_id}),
  // what rtd's memory check and `rtd plan` need (rtd's EncoderShape)
  shape: (c) => ({vocab: c.vocab_size, hidden: c.hidden_size, layers: c.num_hidden_layers, heads: c.num_attention_heads, intermediate: c.intermediate_size, embeddingSize: c.hidden_size, positionBuckets: 0, absolutePositions: c.max_position_embeddings}),
}

export default {
  name: 'tiny-bert',
  kind: 'architecture',
  summary: 'Example external architecture: BERT-style encoder (absolute positions, token types, post-LN); HF model_type bert',
  modelTypes: ['bert'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      vocab_size: {type: 'integer', minimum: 1, description: 'Rows of the word table. Default: the tokenizer\'s size.'},
      hidden_size: {type: 'integer', minimum: 1, default: 128, description: 'Hidden width.'},
      num_hidden_layers: {type: 'integer', minimum: 1, default: 2, description: 'Layers.'},
      num_attention_heads: {type: 'integer', minimum: 1, default: 4, description: 'Attention heads; must divide hidden_size.'},
      intermediate_size: {type: 'integer', minimum: 1, default: 512, description: 'FFN width.'},
      max_position_embeddings: {type: 'integer', minimum: 1, default: 128, description: 'Rows of the absolute position table (the longest sequence).'},
      type_vocab_size: {type: 'integer', minimum: 1, default: 2, description: 'Rows of the token-type table.'},
      initializer_range: {type: 'number', exclusiveMinimum: 0, default: 0.02, description: 'Std of the normal init.'},
    },
  },
  configs,
  // cheap checks of the pipeline text, reported by `rtd validate` with file:line
  check(config, pipeline) {
    const problems = []
    if (config.hidden_size % config.num_attention_heads !== 0) problems.push({path: 'model.config.num_attention_heads', message: `${config.num_attention_heads} heads do not divide hidden_size ${config.hidden_size}`})
    const maxLength = pipeline.data?.max_length
    if (typeof maxLength === 'number' && maxLength > config.max_position_embeddings) problems.push({path: 'model.config.max_position_embeddings', message: `${config.max_position_embeddings} is below data.max_length ${maxLength}`})
    const width = pipeline.model?.generator?.width
    if (typeof width === 'number' && width !== 1) problems.push({path: 'model.generator.width', message: 'tiny-bert shares its tables at the hidden width: use generator.width 1 (and a smaller depth)'})
    return problems
  },
  async load() {
    return (await import('./networks.mjs')).architecture
  },
}
