/**
 * Rough training-memory estimate for a generator/discriminator pair, and the check that it fits
 * the chosen backend (SPEC A.11: the wasm heap ends at 4 GB; past it, "memory access out of
 * bounds" in the middle of a step). Weights, gradients and AdamW state are exact float32 counts
 * (DebertaV2Model parameter counts match SPEC B.1.2); activations are a per-layer model of what
 * tfjs keeps for backprop (every forward intermediate and every backward gradient stay alive until
 * the step ends), fitted on bench/memory-calibration.ts and scaled to bench/train-step.ts.
 */
import os from 'node:os'
import {ConfigError} from '../errors.js'

export const EMBEDDING_SHARINGS = ['gdes', 'es', 'nes'] as const
export type EmbeddingSharing = (typeof EMBEDDING_SHARINGS)[number]
export const OPTIMIZERS = ['adamw'] as const
export type Optimizer = (typeof OPTIMIZERS)[number]

/** The shape of one DeBERTa-v2/v3 encoder (HF config names in comments). */
export interface EncoderShape {
  /** vocab_size */
  vocab: number
  /** hidden_size */
  hidden: number
  /** num_hidden_layers */
  layers: number
  /** num_attention_heads */
  heads: number
  /** intermediate_size */
  intermediate: number
  /** embedding_size; default = hidden (no projection). */
  embeddingSize?: number
  /** position_buckets; default 256 (DeBERTa-v3). The relative table has 2x rows. */
  positionBuckets?: number
  /** max_position_embeddings when position_biased_input; default 0 (v3 has none). */
  absolutePositions?: number
}

export interface TrainingMemoryOptions {
  discriminator: EncoderShape
  generator: EncoderShape
  batch: number
  seqLen: number
  sharing: EmbeddingSharing
  optimizer: Optimizer
  /** Positions that get MLM logits: 'masked' (default; maskRate of the tokens) or 'all'. */
  mlmLogits?: 'masked' | 'all'
  /** Fraction of tokens masked; default 0.15. */
  maskRate?: number
  /**
   * Encoder activations recomputed in the backward pass (src/model/recompute.ts). Default: what
   * RtdPair's 'auto' does on wasm when the heap would be crowded (recomputeHelps), else none
   * (an overestimate when 'auto' recomputes every other layer: safe for the fit check).
   * 'alternate': every other layer (the second, fourth, ...).
   */
  recompute?: boolean | 'alternate'
  /**
   * Scale of the activation model (fitted on wasm) for a backend that keeps fewer values: the
   * native backend's fused GELU and LayerNorm keep only their inputs for the backward pass
   * (NATIVE_ACTIVATION_FACTOR). Default 1.
   */
  activationFactor?: number
}

/**
 * The native backend's activations over the wasm-fitted model's: its fused GELU and LayerNorm
 * kernels (src/runtime/fused-ops.ts) keep only their input for the backward pass, where the
 * compositions kept four to nine intermediates each. bench-small's measured peak RSS went from
 * 1,090 to 763 MB with the fusions; this puts the estimate back on it (docs/performance.md).
 */
export const NATIVE_ACTIVATION_FACTOR = 0.5

export interface TrainingMemoryEstimate {
  /** total: the peak at the end of the backward pass plus allocator slack. */
  bytes: {weights: number; gradients: number; optimizer: number; activations: number; total: number}
  /** Which layer activations the estimate assumes are recomputed. */
  recompute: boolean | 'alternate'
  params: {generator: number; discriminator: number; trainable: number}
  /** One line per part, for messages and `--dry-run` output. */
  breakdown: string[]
}

const F32 = 4
// Activation model: float32 values tfjs holds for one encoder's training step on wasm, fitted on
// bench/train-step.ts (distinct heap buffers at the peak; zero-copy clones, tied E_G gradient):
// without recomputation every forward intermediate a gradient needs and the gradient of every
// intermediate stay alive until the backward pass ends (engine.gradients), hence the counts.
/** float32 values per token per layer, in units of (hidden + intermediate). */
const ACT_PER_TOKEN = 26
/** Copies of [B, nh, N, N] per layer (c2c, c2p, p2c, sum, softmax, and their gradients). */
const ACT_PER_SCORE = 21
/** Copies of [nh, B·N, 2N-1] per layer (the c2p and p2c products before the skew, and their gradients). */
const ACT_PER_REL_SCORE = 11
/** Copies of a layer's parameters in flight besides the weights and gradients counted apart. */
const PARAM_TRANSIENTS = 1
/**
 * Scale of the counts above to the real model: xsmall GDES without recomputation, batch 1 and 2,
 * seq 128, measured 767 and 1373 MiB of activations (peak distinct heap buffers minus weights,
 * AdamW state and gradients). The counts were first fitted on a proxy layer whose saved tensors
 * were copies; the wasm Identity no longer copies.
 */
const ACTIVATION_FACTOR = 0.83
/**
 * With recomputation (src/model/recompute.ts) a layer keeps its input and the gradient of its
 * output: [tokens, hidden] values per layer; one layer's full activations are alive at a time.
 */
const RECOMPUTE_PER_TOKEN = 3
/** Copies of the [M, V] MLM logits alive at the loss (logits, softmax, one-hot, difference, gradient). */
const ACT_PER_LOGIT = 5
/**
 * Heap size over the peak of live buffers: allocator fragmentation (the heap never shrinks).
 * Measured 1.07-1.24 on xsmall (b1, b2, b8 with in-place clipping; 1.35 when clipping copied).
 */
const HEAP_OVERHEAD = 1.25

/** DebertaV2Model parameters (no heads): matches SPEC B.1.2 counts. */
export function encoderParams(s: EncoderShape): {total: number; wordEmbeddings: number} {
  const e = s.embeddingSize ?? s.hidden
  const h = s.hidden
  const buckets = s.positionBuckets ?? 256
  const wordEmbeddings = s.vocab * e
  const embeddings = wordEmbeddings + (s.absolutePositions ?? 0) * e + 2 * h + (e !== h ? e * h : 0)
  const rel = 2 * buckets * h + 2 * h
  return {total: embeddings + rel + s.layers * layerParams(s), wordEmbeddings}
}

function layerParams(s: EncoderShape): number {
  const h = s.hidden
  return 4 * (h * h + h) + 2 * h + (h * s.intermediate + s.intermediate) + (s.intermediate * h + h) + 2 * h
}

/** float32 values one layer holds for its backward pass (and the gradients of its intermediates). */
function layerActivationValues(s: EncoderShape, batch: number, seqLen: number): number {
  const tokens = batch * seqLen
  const scores = batch * s.heads * seqLen * seqLen
  const relScores = batch * s.heads * seqLen * (2 * seqLen - 1)
  return ACTIVATION_FACTOR * (ACT_PER_TOKEN * tokens * (s.hidden + s.intermediate) + ACT_PER_SCORE * scores + ACT_PER_REL_SCORE * relScores +
    PARAM_TRANSIENTS * (layerParams(s) + 2 * (s.positionBuckets ?? 256) * s.hidden))
}

/**
 * float32 values kept for one training step of an encoder (both passes, all layers); with
 * recomputation without the one layer being recomputed (see the caller: one at a time overall).
 */
function activationValues(s: EncoderShape, batch: number, seqLen: number, recompute: boolean | 'alternate'): number {
  const tokens = batch * seqLen
  const recomputed = recompute === true ? s.layers : recompute === 'alternate' ? Math.floor(s.layers / 2) : 0
  const layers = recomputed * RECOMPUTE_PER_TOKEN * tokens * s.hidden + (s.layers - recomputed) * layerActivationValues(s, batch, seqLen)
  return layers + 4 * tokens * (s.embeddingSize ?? s.hidden)
}

function checkShape(name: string, s: EncoderShape): void {
  for (const key of ['vocab', 'hidden', 'layers', 'heads', 'intermediate'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) {
      throw new ConfigError(`${name}.${key} must be a positive integer, got ${s[key]}`, {code: 'memory.bad_shape'})
    }
  }
}

export function estimateTrainingMemory(opts: TrainingMemoryOptions): TrainingMemoryEstimate {
  const {discriminator: d, generator: g, batch, seqLen, sharing} = opts
  checkShape('discriminator', d)
  checkShape('generator', g)
  if (!EMBEDDING_SHARINGS.includes(sharing)) {
    throw new ConfigError(`sharing '${String(sharing)}' is not one of ${EMBEDDING_SHARINGS.join(', ')}`, {code: 'memory.bad_sharing'})
  }
  const dp = encoderParams(d)
  const gp = encoderParams(g)
  // Heads: generator MLM head (dense, LayerNorm, vocab bias; decoder tied to E_G); RTD head (dense, LayerNorm, classifier).
  const generator = gp.total + g.hidden * g.hidden + g.hidden + 2 * g.hidden + g.vocab
  // ES: the discriminator reads E_G and owns no word embeddings. GDES: it owns E_delta [V, E] instead. NES: its own E_D.
  const discriminator = dp.total - (sharing === 'es' ? dp.wordEmbeddings : 0) + d.hidden * d.hidden + d.hidden + 2 * d.hidden + d.hidden + 1
  const trainable = generator + discriminator
  const weights = F32 * trainable
  const gradients = F32 * trainable
  const optimizer = 2 * F32 * trainable // AdamW m and v
  const tokens = batch * seqLen
  const mlmRows = opts.mlmLogits === 'all' ? tokens : Math.ceil(tokens * (opts.maskRate ?? 0.15))
  // 'auto' as RtdPair does on wasm: recompute when the step would otherwise crowd the heap.
  const recompute = opts.recompute ?? recomputeHelps(opts)
  // Word-table gradients are single dense [V, E] tensors (counted in `gradients`) under GDES and
  // NES (tied E_G: tied-table.ts); under ES the discriminator's lookup adds a second one for E_G
  // and their sum a third while the backward pass runs.
  const embeddingTransients = sharing === 'es' ? 2 * gp.wordEmbeddings : 0
  const recomputing = recompute ? Math.max(layerActivationValues(g, batch, seqLen), layerActivationValues(d, batch, seqLen)) : 0
  const kept = activationValues(g, batch, seqLen, recompute) + activationValues(d, batch, seqLen, recompute) + recomputing + ACT_PER_LOGIT * mlmRows * g.vocab
  const activations = F32 * (kept + embeddingTransients) * (opts.activationFactor ?? 1)
  // The peak is the end of the backward pass (all gradients and activations alive): clipping and
  // AdamW then work in place (clip.ts, adamw.ts), one parameter-sized temporary at most.
  const total = HEAP_OVERHEAD * (weights + optimizer + gradients + activations)
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`
  return {
    bytes: {weights, gradients, optimizer, activations, total},
    recompute,
    params: {generator, discriminator, trainable},
    breakdown: [
      `weights ${mb(weights)} (${(trainable / 1e6).toFixed(1)}M float32 parameters: generator ${(generator / 1e6).toFixed(1)}M, discriminator ${(discriminator / 1e6).toFixed(1)}M, ${sharing})`,
      `gradients ${mb(gradients)}`,
      `optimizer ${mb(optimizer)} (AdamW m and v)`,
      `activations ${mb(activations)} (batch ${batch} x seq ${seqLen}${recompute === true ? ', layers recomputed in the backward pass' : recompute === 'alternate' ? ', every other layer recomputed in the backward pass' : ''}, MLM logits for ${mlmRows} positions x vocab ${g.vocab})`,
      `total ${mb(total)} including ${Math.round((HEAP_OVERHEAD - 1) * 100)}% allocator slack`,
    ],
  }
}

/**
 * Whether recomputing encoder activations in the backward pass (src/model/recompute.ts) is
 * worth its extra forward: when the step without it would take more than 3/4 of the wasm heap.
 */
export function recomputeHelps(opts: Omit<TrainingMemoryOptions, 'optimizer' | 'recompute'> & {optimizer?: Optimizer}, limitBytes = WASM_HEAP_LIMIT_BYTES): boolean {
  return estimateTrainingMemory({...opts, optimizer: 'adamw', recompute: false}).bytes.total > 0.75 * limitBytes
}

/**
 * What runtime.recompute 'auto' does on `backend`: every layer when the step without
 * recomputation would take more than 3 GiB (wasm: crowd its heap; native: keep deberta-v3-xsmall
 * and -base below PyTorch's memory on small machines) or crowd the RAM; elsewhere none. Below
 * that, on wasm every other layer (a step near PyTorch's memory for ~25% more time,
 * docs/performance.md) where that cuts the estimated peak by a tenth or more: a small model keeps
 * little per layer (the offline default, pipelines/tiny-gdes.yaml: +2 MiB of its ~400) and would
 * only pay the extra forward (~10% of its step's CPU time). On native none: its fused kernels
 * keep a step below PyTorch's memory without it (bench-small: 0.87x), and every other layer
 * recomputed cost a fifth of that step's CPU time. "The RAM" is memoryLimit(): RTD_MEMORY_LIMIT
 * when set (a container's share), as the fit check reads it.
 */
export function autoRecompute(opts: Omit<TrainingMemoryOptions, 'optimizer' | 'recompute'>, backend: string, env: NodeJS.ProcessEnv = process.env): boolean | 'alternate' {
  if (backend !== 'wasm' && backend !== 'native') return false
  if (recomputeHelps(opts) || recomputeHelps(opts, memoryLimit(env).bytes)) return true
  if (backend === 'native') return false
  const peak = (recompute: boolean | 'alternate') => estimateTrainingMemory({...opts, optimizer: 'adamw', recompute}).bytes.total
  return peak('alternate') <= 0.9 * peak(false) ? 'alternate' : false
}

/** The memory the plan must fit: RTD_MEMORY_LIMIT (bytes, or with a K/M/G/T suffix, binary) or the machine's RAM. */
export function memoryLimit(env: NodeJS.ProcessEnv = process.env): {bytes: number; what: string} {
  const set = env['RTD_MEMORY_LIMIT']
  if (set !== undefined && set !== '') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(set)
    if (m === null) throw new ConfigError(`RTD_MEMORY_LIMIT '${set}' is not a size (e.g. 16G, 512M or bytes)`, {code: 'memory.limit_invalid'})
    const bytes = Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase())
    return {bytes, what: `RTD_MEMORY_LIMIT ${set}`}
  }
  return {bytes: os.totalmem(), what: `this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB of RAM`}
}

/** Usable wasm heap: 4 GiB addressable, minus room for the module, stacks and tfjs's own buffers. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30 - 256 * 2 ** 20

/**
 * Throws a ConfigError (code `memory.exceeds_backend`) when the estimate does not fit the backend,
 * with the numbers and what to change. Only wasm has a hard limit; other backends pass.
 */
export function checkFitsBackend(opts: {estimate: TrainingMemoryEstimate; backend: string}): void {
  const {estimate, backend} = opts
  if (backend !== 'wasm') return
  const need = estimate.bytes.total
  if (need <= WASM_HEAP_LIMIT_BYTES) return
  const gib = (x: number) => `${(x / 2 ** 30).toFixed(2)} GiB`
  throw new ConfigError(
    `training needs about ${gib(need)} but the wasm backend's heap holds at most ${gib(WASM_HEAP_LIMIT_BYTES)} (4 GiB address space): ` +
      estimate.breakdown.join('; '),
    {
      code: 'memory.exceeds_backend',
      suggestions: [
        'use a smaller model (fewer layers, smaller hidden size or vocabulary)',
        'lower the batch size or the sequence length (activations scale with batch x seq)',
        "use runtime.backend 'cpu' (no 4 GiB limit, much slower)",
        "install @tensorflow/tfjs-node and use runtime.backend 'tensorflow' (no 4 GiB limit)",
      ],
    },
  )
}
