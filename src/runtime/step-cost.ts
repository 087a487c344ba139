/**
 * FLOPs of one GDES/MLM training step as a function of the encoder shapes (the same inputs as the
 * memory estimate: memory-estimate.ts), and the time per step they take on each backend, from a
 * table of steps measured on the project's 2-core machine (docs/performance.md).
 */
import type {EncoderShape} from './memory-estimate.js'

export interface StepFlopsOptions {
  discriminator: EncoderShape
  generator: EncoderShape
  batch: number
  seqLen: number
  /** Fraction of tokens with MLM logits (default 0.15). */
  maskRate?: number
  /** Layers recomputed in the backward pass: each costs one more forward. */
  recompute?: boolean | 'alternate'
  /** Trainable parameters (AdamW's ~10 FLOPs each); 0 to leave the update out. */
  params?: number
}

/** Forward FLOPs of one encoder over batch x seqLen tokens (multiply-adds count 2). */
export function encoderForwardFlops(s: EncoderShape, batch: number, seqLen: number): {perLayer: number; total: number} {
  const T = batch * seqLen
  const h = s.hidden
  const headDim = h / s.heads
  // relative positions: the c2p/p2c products span 2k-1 buckets, at most 2 x position_buckets
  const rel = Math.min(2 * seqLen - 1, 2 * (s.positionBuckets ?? 256))
  const projections = 2 * T * (4 * h * h + 2 * h * s.intermediate)
  const attention = 2 * 2 * batch * s.heads * seqLen * seqLen * headDim // QKᵀ and PV
  const disentangled = 2 * 2 * batch * s.heads * seqLen * rel * headDim + 2 * 2 * rel * h * h // c2p, p2c and the relative key/query projections
  const perLayer = projections + attention + disentangled
  const e = s.embeddingSize ?? h
  return {perLayer, total: s.layers * perLayer + (e !== h ? 2 * T * e * h : 0)}
}

/** FLOPs of one training step: forwards, backward (2x forward), recomputation, heads, AdamW. */
export function trainingStepFlops(o: StepFlopsOptions): number {
  const T = o.batch * o.seqLen
  const masked = Math.ceil(T * (o.maskRate ?? 0.15))
  const g = encoderForwardFlops(o.generator, o.batch, o.seqLen)
  const d = encoderForwardFlops(o.discriminator, o.batch, o.seqLen)
  // MLM head at the masked positions (dense + tied decoder over the vocabulary); RTD head on every token
  const heads = 2 * masked * (o.generator.hidden * o.generator.hidden + o.generator.hidden * o.generator.vocab) + 2 * T * (o.discriminator.hidden * o.discriminator.hidden + o.discriminator.hidden)
  const forward = g.total + d.total + heads
  const recomputed = (s: EncoderShape, perLayer: number) => (o.recompute === true ? s.layers : o.recompute === 'alternate' ? Math.floor(s.layers / 2) : 0) * perLayer
  return 3 * forward + recomputed(o.generator, g.perLayer) + recomputed(o.discriminator, d.perLayer) + 10 * (o.params ?? 0)
}

/** One measured step: its FLOPs (trainingStepFlops) and wall seconds on an otherwise idle-ish machine. */
interface MeasuredStep {
  config: string
  flops: number
  seconds: number
}

/**
 * Steps measured on the project's machine (2 cores; docs/performance.md), per backend, smallest
 * first. The time for other shapes interpolates the achieved FLOP rate in log(FLOPs): small
 * steps use the cores less well than large ones.
 */
export const MEASURED_STEPS: Record<string, MeasuredStep[]> = {
  // windows I and J (wasm + native BLAS kernels, load ~2): recompute alternate / every layer
  wasm: [
    {config: 'bench-small', flops: 4.61e10, seconds: 0.95},
    {config: 'xsmall', flops: 3.63e11, seconds: 6.4},
  ],
  // the native backend ran 1.2x wasm's step in the same (loaded) window, 2026-12-03
  native: [
    {config: 'bench-small', flops: 4.61e10, seconds: 1.15},
    {config: 'xsmall', flops: 3.63e11, seconds: 7.8},
  ],
  // PyTorch's step (bench_torch.py, no recomputation) as the stand-in for TensorFlow's own kernels
  tensorflow: [
    {config: 'bench-small', flops: 3.99e10, seconds: 0.5},
    {config: 'xsmall', flops: 2.84e11, seconds: 5},
    {config: 'base', flops: 9.79e11, seconds: 67},
  ],
}
/** The pure-JS cpu backend: about 20x the wasm step (issue 10's measurements). */
const CPU_SLOWDOWN = 20

/** Estimated seconds per step on `backend` for a step of `flops`, and where the number comes from. */
export function estimateStepSeconds(flops: number, backend: string): {seconds: number; basis: string} {
  const table = MEASURED_STEPS[backend === 'cpu' ? 'wasm' : backend] ?? MEASURED_STEPS['wasm']!
  const rates = table.map((m) => ({lf: Math.log(m.flops), rate: m.flops / m.seconds, config: m.config}))
  let rate: number
  if (Math.log(flops) <= rates[0]!.lf) rate = rates[0]!.rate
  else if (Math.log(flops) >= rates[rates.length - 1]!.lf) rate = rates[rates.length - 1]!.rate
  else {
    const i = rates.findIndex((r) => r.lf >= Math.log(flops))
    const a = rates[i - 1]!
    const b = rates[i]!
    const t = (Math.log(flops) - a.lf) / (b.lf - a.lf)
    rate = Math.exp(Math.log(a.rate) * (1 - t) + Math.log(b.rate) * t)
  }
  const slow = backend === 'cpu' ? CPU_SLOWDOWN : 1
  return {seconds: (flops / rate) * slow, basis: `${(rate / 1e9 / slow).toFixed(1)} GFLOP/s, interpolated from steps measured on ${backend === 'cpu' ? 'wasm (cpu ~20x slower)' : backend} (${table.map((m) => m.config).join(', ')}) on a 2-core machine`}
}
