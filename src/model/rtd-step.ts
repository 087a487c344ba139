/**
 * One RTD step's losses for any generator/discriminator pair (SPEC A.6, B.7): the generator
 * predicts the masked tokens (L_MLM), replacements are sampled from its logits (host side, off the
 * tape), and the discriminator labels every non-pad token replaced or original (L_RTD).
 * L = w·L_MLM + λ·L_RTD. RtdPair (over any architecture's networks) uses it; the models only need
 * the surface of RtdStepModels.
 */
import * as tf from '#tfjs'
import type {Rng} from '../util/rng.js'
import type {MaskedLmLossOptions} from './architecture.js'
import type {EncoderOutput as BaseEncoderOutput} from './deberta-model.js'
import {rtdLoss} from './losses.js'
import {maskedPositions} from './masked-positions.js'
import {tidy, type ForwardContext, type ModelFault, type Recompute} from './nn.js'
import {sampleCategorical} from './sampling.js'

/** What an architecture's encoder returns; `extra` holds further tensors its result owns (disposed with it). */
export interface EncoderOutput extends BaseEncoderOutput {
  extra?: tf.Tensor[]
}

/** The generator as the RTD step uses it (MlmModel, ElectraMlmModel). */
export interface RtdGenerator {
  lossFn(opts: MaskedLmLossOptions): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: EncoderOutput}
}

/** The discriminator as the RTD step uses it (Discriminator, ElectraDiscriminator). */
export interface RtdDiscriminator {
  forward(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): {encoder: EncoderOutput; logits: tf.Tensor2D}
}

export interface RtdStepModels {
  generator: RtdGenerator
  discriminator: RtdDiscriminator
  /** Id written at masked positions when maskedInputIds is not given. */
  maskTokenId: number
  faults?: readonly ModelFault[]
  /** Which layers recompute at this shape when the call does not say. */
  recomputes(batch: number, seqLen: number): Recompute
}

export const LOSS_PARTS = ['joint', 'generator', 'discriminator'] as const
/** joint: w·L_MLM + λ·L_RTD (one backward); generator: w·L_MLM only; discriminator: λ·L_RTD only (decoupled order). */
export type LossPart = (typeof LOSS_PARTS)[number]

export interface RtdLossOptions {
  /** Original token ids, row-major [B·N]. */
  inputIds: Int32Array
  /** Generator input [B·N]; default: inputIds with maskTokenId at every mlmMask position. */
  maskedInputIds?: Int32Array
  /** 1 = token, 0 = padding, [B·N]. */
  attentionMask: Int32Array | Float32Array
  /** 1 = position selected for prediction, [B·N]. */
  mlmMask: Int32Array | Uint8Array
  batch: number
  seqLen: number
  tokenTypeIds?: Int32Array
  /** λ, the weight of L_RTD. */
  lambda: number
  /** Weight of L_MLM. Default 1. */
  mlmWeight?: number
  /** Sampling temperature T. Default 1. */
  temperature?: number
  /** Replacement ids [M] in mlmMask row-major order; when absent they are drawn with sampleRng. */
  samples?: Int32Array
  sampleRng?: Rng
  /** Dropout on (needs dropoutRng). Default false. */
  training?: boolean
  dropoutRng?: Rng
  /** Default 'joint'. 'discriminator' needs samples (e.g. those of the preceding generator part). */
  part?: LossPart
  /** Keep the auxiliary tensors past the caller's tidy scope (then call result.dispose()). */
  keep?: boolean
  /** Overrides RtdPairOptions.recompute for this call. */
  recompute?: Recompute
}

export interface RtdLossResult {
  /** The objective of `part` (a scalar to differentiate). */
  loss: tf.Scalar
  /** L_MLM (absent for part 'discriminator'). */
  lossMlm?: tf.Scalar
  /** L_RTD without λ (absent for part 'generator'). */
  lossRtd?: tf.Scalar
  /** [M, V] generator logits at the masked positions. */
  mlmLogits?: tf.Tensor2D
  /** [B, N] discriminator logits. */
  rtdLogits?: tf.Tensor2D
  generator?: EncoderOutput
  discriminator?: EncoderOutput
  /** [M] replacement ids used. */
  samples: Int32Array
  /** [B·N] generator input. */
  maskedInputIds: Int32Array
  /** [B·N] discriminator input. */
  discInputIds: Int32Array
  /** [B·N] 1 iff masked and sample != original. */
  rtdLabels: Int32Array
  /** Disposes the tensors of this result (loss included). */
  dispose(): void
}

/**
 * One RTD step's losses. Usable inside tf.variableGrads / optimizer.minimize (return `.loss`).
 * Host-side work (masking defaults, sampling, labels) happens here; sampling reads the logits
 * with dataSync and never enters the tape.
 */
export function rtdStepLoss(models: RtdStepModels, o: RtdLossOptions): RtdLossResult {
  const {batch: B, seqLen: N} = o
  const part = o.part ?? 'joint'
  const size = B * N
  for (const [name, a] of [['inputIds', o.inputIds], ['attentionMask', o.attentionMask], ['mlmMask', o.mlmMask]] as const) {
    if (a.length !== size) throw new Error(`${name} has ${a.length} entries, expected batch·seqLen = ${B}·${N} = ${size}`)
  }
  const positions = maskedPositions(o.mlmMask)
  const maskedInputIds = o.maskedInputIds ?? Int32Array.from(o.inputIds, (id, k) => (o.mlmMask[k] ? models.maskTokenId : id))
  const ctx: ForwardContext = {training: o.training ?? false, rng: o.dropoutRng, faults: models.faults, recompute: o.recompute ?? models.recomputes(B, N)}
  const keepers: tf.Tensor[] = []
  let samples = o.samples
  const res = tidy(() => {
    const mask = tf.tensor2d(Float32Array.from(o.attentionMask), [B, N], 'float32')
    const tokenTypeIds = o.tokenTypeIds ? tf.tensor2d(o.tokenTypeIds, [B, N], 'int32') : undefined
    let lossMlm: tf.Scalar | undefined
    let mlmLogits: tf.Tensor2D | undefined
    let generator: EncoderOutput | undefined
    if (part !== 'discriminator') {
      const labels = Int32Array.from(positions, (p) => o.inputIds[p])
      const g = models.generator.lossFn({maskedInputIds, attentionMask: o.attentionMask, mlmMask: o.mlmMask, labels, batch: B, seqLen: N, tokenTypeIds: o.tokenTypeIds, ctx})
      lossMlm = g.loss
      mlmLogits = g.logits
      generator = g.encoder
      if (samples === undefined) {
        if (o.sampleRng === undefined) throw new Error('lossFn needs samples or a sampleRng')
        samples = sampleCategorical({logits: g.logits.dataSync() as Float32Array, rows: positions.length, vocab: g.logits.shape[1], rng: o.sampleRng, temperature: o.temperature})
      }
    }
    if (samples === undefined) throw new Error(`lossFn part 'discriminator' needs the samples of the generator part`)
    if (samples.length !== positions.length) throw new Error(`samples has ${samples.length} entries but mlmMask selects ${positions.length}`)
    const discInputIds = Int32Array.from(maskedInputIds)
    positions.forEach((p, m) => (discInputIds[p] = samples![m]))
    const rtdLabels = Int32Array.from(discInputIds, (id, k) => (o.mlmMask[k] && id !== o.inputIds[k] ? 1 : 0))
    let lossRtd: tf.Scalar | undefined
    let rtdLogits: tf.Tensor2D | undefined
    let discriminator: EncoderOutput | undefined
    if (part !== 'generator') {
      const d = models.discriminator.forward({inputIds: tf.tensor2d(discInputIds, [B, N], 'int32'), mask, tokenTypeIds, ctx})
      rtdLogits = d.logits
      discriminator = d.encoder
      lossRtd = rtdLoss({logits: d.logits, labels: tf.tensor2d(Float32Array.from(rtdLabels), [B, N]), weights: mask})
    }
    const w = o.mlmWeight ?? 1
    const loss =
      part === 'generator' ? tf.mul(lossMlm!, w) : part === 'discriminator' ? tf.mul(lossRtd!, o.lambda) : tf.add(tf.mul(lossMlm!, w), tf.mul(lossRtd!, o.lambda))
    return {loss: loss as tf.Scalar, lossMlm, lossRtd, mlmLogits, rtdLogits, generator, discriminator, discInputIds, rtdLabels}
  })
  const tensors: tf.Tensor[] = [res.loss]
  for (const t of [res.lossMlm, res.lossRtd, res.mlmLogits, res.rtdLogits]) if (t) tensors.push(t)
  for (const e of [res.generator, res.discriminator]) if (e) tensors.push(...e.hiddenStates, ...(e.extra ?? []))
  if (o.keep) for (const t of tensors) if (t !== res.loss) keepers.push(tf.keep(t))
  return {
    ...res,
    samples: samples!,
    maskedInputIds,
    dispose: () => {
      for (const t of new Set(tensors)) if (!t.isDisposed) t.dispose()
    },
  }
}
