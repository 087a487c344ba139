// The tiny-bert networks behind rtd's architecture contract (src/plugin/architecture.ts):
// an encoder, a masked LM (the RTD generator) and a discriminator, parameters named as in
// Hugging Face's BertModel / BertForMaskedLM, embedding tables shared the way rtd asks.
import * as tf from '@tensorflow/tfjs'

// ---- parameters: HF name -> tf.Variable, seeded init ------------------------------------------

/** Deterministic normal(0, std) values for one parameter, from (seed, role, name). */
function normalValues(size, std, key) {
  let h = 2166136261
  for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  let s = h >>> 0
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = new Float32Array(size)
  for (let i = 0; i < size; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())
  return out
}

// tf variable names are global: every store gets its own prefix (kept on globalThis, like rtd's)
const COUNTER = Symbol.for('tiny-bert.paramStores')

class Params {
  constructor(role, seed, std) {
    globalThis[COUNTER] = (globalThis[COUNTER] ?? 0) + 1
    this.prefix = `tinybert${globalThis[COUNTER]}/${role}/`
    this.role = role
    this.seed = seed
    this.std = std
    /** HF name -> tf.Variable (rtd reads `vars` and `nameOf`). */
    this.vars = new Map()
  }

  create(name, shape, kind) {
    const size = shape.reduce((a, b) => a * b, 1)
    const values = kind === 'normal' ? normalValues(size, this.std, `${this.seed}/${this.role}/${name}`) : new Float32Array(size).fill(kind === 'ones' ? 1 : 0)
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, this.prefix + name))
    this.vars.set(name, v)
    return v
  }

  nameOf(tfName) {
    const name = tfName.startsWith(this.prefix) ? tfName.slice(this.prefix.length) : undefined
    return name !== undefined && this.vars.has(name) ? name : undefined
  }

  /** Assign HF-named host tensors; every parameter must be there with its shape. Returns notes on ignored keys. */
  load(tensors, isExtra) {
    const missing = [...this.vars.keys()].filter((k) => !tensors.has(k))
    const unexpected = [...tensors.keys()].filter((k) => !this.vars.has(k) && !isExtra(k))
    const wrong = [...this.vars].filter(([k, v]) => tensors.has(k) && tensors.get(k).shape.join() !== v.shape.join()).map(([k]) => k)
    if (missing.length + unexpected.length + wrong.length > 0) {
      throw new Error(`tiny-bert ${this.role} weights do not match its config (missing: ${missing.join(', ') || '-'}; unexpected: ${unexpected.join(', ') || '-'}; wrong shape: ${wrong.join(', ') || '-'})`)
    }
    for (const [k, v] of this.vars) tf.tidy(() => v.assign(tf.tensor(Float32Array.from(tensors.get(k).data), v.shape)))
    return [...tensors.keys()].filter((k) => !this.vars.has(k)).map((k) => `${this.role}: ignored ${k}`)
  }

  export() {
    return new Map([...this.vars].map(([k, v]) => [k, {shape: [...v.shape], data: v.dataSync()}]))
  }

  dispose() {
    for (const v of this.vars.values()) v.dispose()
    this.vars.clear()
  }
}

// ---- building blocks --------------------------------------------------------------------------

const linear = (x, w, b) => tf.add(tf.matMul(x, w, false, true), b) // w: [out, in] (PyTorch layout)
const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))
function layerNorm(x, g, b, eps) {
  const {mean, variance} = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b)
}
/** Rows of `table` without a gradient to it (GDES: the discriminator must not move the generator's table). */
const stopGradientRows = tf.customGrad((rows, save) => ({value: tf.clone(rows), gradFunc: (dy) => tf.zerosLike(dy)}))

const TABLES = [
  ['word', 'word_embeddings', (c) => c.vocab_size],
  ['position', 'position_embeddings', (c) => c.max_position_embeddings],
  ['token_type', 'token_type_embeddings', (c) => c.type_vocab_size],
]

/** BertModel: embeddings (word + position + token type, LayerNorm) and post-LN layers, under `bert.`. */
class Encoder {
  constructor(params, config, share) {
    const c = config
    const H = c.hidden_size
    this.config = c
    this.params = params
    this.tables = {}
    for (const [name, hf, rows] of TABLES) {
      const shape = [rows(c), H]
      const source = share?.tables[name]
      if (source !== undefined) {
        if (source.shape.join() !== shape.join()) throw new Error(`tiny-bert cannot share ${hf}: generator ${JSON.stringify(source.shape)} vs discriminator ${JSON.stringify(shape)}`)
        const delta = share.mode === 'gdes' ? params.create(`bert.embeddings.${hf}._weight`, shape, 'zeros') : undefined // GDES: zero-init delta
        this.tables[name] = {hf, mode: share.mode, source, delta}
      } else this.tables[name] = {hf, mode: 'own', own: params.create(`bert.embeddings.${hf}.weight`, shape, 'normal')}
    }
    this.ln = [params.create('bert.embeddings.LayerNorm.weight', [H], 'ones'), params.create('bert.embeddings.LayerNorm.bias', [H], 'zeros')]
    const dense = (p, out, inp) => [params.create(`${p}.weight`, [out, inp], 'normal'), params.create(`${p}.bias`, [out], 'zeros')]
    const norm = (p) => [params.create(`${p}.weight`, [H], 'ones'), params.create(`${p}.bias`, [H], 'zeros')]
    this.layers = Array.from({length: c.num_hidden_layers}, (_, i) => {
      const p = `bert.encoder.layer.${i}`
      return {
        q: dense(`${p}.attention.self.query`, H, H),
        k: dense(`${p}.attention.self.key`, H, H),
        v: dense(`${p}.attention.self.value`, H, H),
        o: dense(`${p}.attention.output.dense`, H, H),
        ln1: norm(`${p}.attention.output.LayerNorm`),
        up: dense(`${p}.intermediate.dense`, c.intermediate_size, H),
        down: dense(`${p}.output.dense`, H, c.intermediate_size),
        ln2: norm(`${p}.output.LayerNorm`),
      }
    })
  }

  /** The variable a generator shares: its own table. */
  table(name) {
    const t = this.tables[name]
    return t.mode === 'own' ? t.own : t.source
  }

  lookup(name, ids) {
    const t = this.tables[name]
    if (t.mode === 'own') return tf.gather(t.own, ids)
    if (t.mode === 'es') return tf.gather(t.source, ids)
    return tf.add(stopGradientRows(tf.gather(t.source, ids)), tf.gather(t.delta, ids))
  }

  sharedTables() {
    return Object.entries(this.tables)
      .filter(([, t]) => t.mode !== 'own')
      .map(([name, t]) => ({name, hfName: `bert.embeddings.${t.hf}.weight`, mode: t.mode, source: t.source, ...(t.delta ? {delta: t.delta, deltaName: `bert.embeddings.${t.hf}._weight`} : {})}))
  }

  /** inputIds int32 [B, N], mask float32 [B, N] -> hidden states [B·N, H] (dropout is left out of this example). */
  apply({inputIds, mask, tokenTypeIds}) {
    const c = this.config
    const [B, N] = inputIds.shape
    const H = c.hidden_size
    const heads = c.num_attention_heads
    const d = H / heads
    return tf.tidy(() => {
      const ids = tf.reshape(inputIds, [B * N])
      let e = tf.reshape(tf.add(tf.reshape(this.lookup('word', ids), [B, N, H]), this.lookup('position', tf.range(0, N, 1, 'int32'))), [B * N, H])
      e = tf.add(e, this.lookup('token_type', tokenTypeIds ? tf.reshape(tokenTypeIds, [B * N]) : tf.zeros([B * N], 'int32')))
      let h = layerNorm(e, ...this.ln, c.layer_norm_eps)
      const hiddenStates = [h]
      const bias = tf.reshape(tf.mul(tf.sub(1, mask), -1e4), [B, 1, 1, N]) // padding keys get no attention
      const split = (x) => tf.transpose(tf.reshape(x, [B, N, heads, d]), [0, 2, 1, 3])
      for (const l of this.layers) {
        const scores = tf.add(tf.div(tf.matMul(split(linear(h, ...l.q)), split(linear(h, ...l.k)), false, true), Math.sqrt(d)), bias)
        const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), split(linear(h, ...l.v))), [0, 2, 1, 3]), [B * N, H])
        const a = layerNorm(tf.add(linear(ctx, ...l.o), h), ...l.ln1, c.layer_norm_eps)
        h = layerNorm(tf.add(linear(gelu(linear(a, ...l.up)), ...l.down), a), ...l.ln2, c.layer_norm_eps)
        hiddenStates.push(h)
      }
      return {hiddenStates, last: h}
    })
  }
}

const isHead = (k) => k.startsWith('cls.') || k.startsWith('discriminator_predictions.')

class TinyBertModel {
  constructor({config, seed, role = 'encoder'}) {
    this.config = config
    this.params = new Params(role, seed, config.initializer_range)
    this.encoder = new Encoder(this.params, config)
  }
  apply(inputs) {
    return this.encoder.apply(inputs)
  }
  variables() {
    return [...this.params.vars.values()]
  }
  loadTensors(tensors) {
    return this.params.load(tensors, (k) => isHead(k) || k.endsWith('._weight'))
  }
  exportTensors() {
    return this.params.export()
  }
  dispose() {
    this.params.dispose()
  }
}

/** BertForMaskedLM: `cls.predictions.*` head, decoder tied to the word table, logits only at the masked positions. */
class TinyBertForMaskedLM extends TinyBertModel {
  constructor({config, seed, role = 'generator'}) {
    super({config, seed, role})
    const H = config.hidden_size
    const p = this.params
    this.transform = [p.create('cls.predictions.transform.dense.weight', [H, H], 'normal'), p.create('cls.predictions.transform.dense.bias', [H], 'zeros')]
    this.headLn = [p.create('cls.predictions.transform.LayerNorm.weight', [H], 'ones'), p.create('cls.predictions.transform.LayerNorm.bias', [H], 'zeros')]
    this.bias = p.create('cls.predictions.bias', [config.vocab_size], 'zeros')
  }

  embeddingTables() {
    return {word: this.encoder.table('word'), position: this.encoder.table('position'), token_type: this.encoder.table('token_type')}
  }

  lossFn({maskedInputIds, attentionMask, mlmMask, labels, batch: B, seqLen: N, tokenTypeIds, ctx, keep}) {
    const positions = Int32Array.from([...mlmMask.keys()].filter((k) => mlmMask[k]))
    const out = tf.tidy(() => {
      const encoder = this.apply({inputIds: tf.tensor2d(maskedInputIds, [B, N], 'int32'), mask: tf.tensor2d(Float32Array.from(attentionMask), [B, N]), tokenTypeIds: tokenTypeIds ? tf.tensor2d(tokenTypeIds, [B, N], 'int32') : undefined, ctx})
      const rows = tf.gather(encoder.last, tf.tensor1d(positions, 'int32'))
      const t = layerNorm(gelu(linear(rows, ...this.transform)), ...this.headLn, this.config.layer_norm_eps)
      const logits = tf.add(tf.matMul(t, this.encoder.table('word'), false, true), this.bias) // [M, V]
      const loss =
        positions.length === 0
          ? tf.mul(tf.sum(this.bias), 0) // no masked token: 0, still tied to a parameter
          : tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), this.config.vocab_size), tf.logSoftmax(logits)), 1)))
      return {loss, logits, encoder}
    })
    if (keep) [out.logits, ...out.encoder.hiddenStates].forEach((t) => tf.keep(t))
    return out
  }

  recomputes() {
    return false
  }

  loadTensors(tensors) {
    return this.params.load(tensors, (k) => k.startsWith('discriminator_predictions.') || k.endsWith('._weight'))
  }
}

/** ELECTRA-style discriminator head (`discriminator_predictions.*`) on the BERT encoder, sharing the generator's tables. */
class TinyBertDiscriminator {
  constructor({config, seed, share}) {
    const H = config.hidden_size
    this.config = config
    this.params = new Params('discriminator', seed, config.initializer_range)
    this.encoder = new Encoder(this.params, config, share)
    this.dense = [this.params.create('discriminator_predictions.dense.weight', [H, H], 'normal'), this.params.create('discriminator_predictions.dense.bias', [H], 'zeros')]
    this.out = [this.params.create('discriminator_predictions.dense_prediction.weight', [1, H], 'normal'), this.params.create('discriminator_predictions.dense_prediction.bias', [1], 'zeros')]
  }

  forward(inputs) {
    const [B, N] = inputs.inputIds.shape
    return tf.tidy(() => {
      const encoder = this.encoder.apply(inputs)
      return {encoder, logits: tf.reshape(linear(gelu(linear(encoder.last, ...this.dense)), ...this.out), [B, N])}
    })
  }

  sharedTables() {
    return this.encoder.sharedTables()
  }

  /** The tables this model owns (all of them under nes). */
  ownTables() {
    return Object.fromEntries(Object.entries(this.encoder.tables).filter(([, t]) => t.mode === 'own').map(([name, t]) => [name, t.own]))
  }

  canonicalNames(tensors) {
    return tensors
  }

  loadTensors(tensors, opts = {}) {
    return this.params.load(tensors, (k) => k.startsWith('cls.') || (opts.ignore?.(k) ?? false))
  }

  dispose() {
    this.params.dispose()
  }
}

export const architecture = {
  name: 'tiny-bert',
  module: import.meta.url, // data-parallel workers import this module to build their replicas
  configs: (await import('./index.mjs')).default.configs,
  hfArchitectures: {encoder: 'BertModel', maskedLm: 'BertForMaskedLM'},
  createEncoder: (opts) => new TinyBertModel(opts),
  createMaskedLm: (opts) => new TinyBertForMaskedLM(opts),
  createDiscriminator: (opts) => new TinyBertDiscriminator(opts),
}
