/**
 * Adapts the DeBERTa generator/discriminator pair (src/model RtdPair) to the generic trainer
 * (src/train Trainable) and to evaluation (Evaluable).
 *
 * Randomness is derived, never stored: masks from Rng.derive(seed, 'mask', step, microBatch),
 * replacement samples from (seed, 'sample', step, microBatch, global row) (row-keyed so that a
 * data-parallel split of the rows draws the same samples, see row-sample-rng.ts), dropout from
 * (seed, 'dropout', step, microBatch, part). A resumed run therefore sees exactly the masks and
 * samples an uninterrupted run would, and the decoupled discriminator phase re-derives the same
 * mask and reuses the generator phase's samples.
 */
import * as tf from '#tfjs'
import type {Batch} from '../data/batch-iterator.js'
import type {MaskedBatch} from '../data/masking.js'
import type {SpecialTokenIds} from '../data/prepared-data.js'
import {maskedPositions} from '../model/masked-positions.js'
import type {LossPart, RtdPair, RtdPairOptions} from '../model/rtd-pair.js'
import {sampleCategorical} from '../model/sampling.js'
import {siblingModule, type ReplicaRecipe, type RowShare, type ShardableTrainable} from '../parallel/shardable.js'
import type {LossAndGrads, LossContext, ParameterGroup} from '../train/trainable.js'
import {Rng} from '../util/rng.js'
import type {EmbeddingDiagnosable, EvalBatchOutput, Evaluable} from '../eval/evaluable.js'
import {maskForTraining, maskedBatchInputs, tokenCount, type MaskOptions} from './mask-for-training.js'
import {mlmTokenStats} from './masked-lm-outputs.js'
import {rowSampleRng} from './row-sample-rng.js'
import {embeddingTableStats, gradientNorms} from '../eval/embedding-diagnostics.js'
import {readScalars, syncReadsWork} from '../runtime/host-reads.js'


export interface RtdTrainableOptions {
  pair: RtdPair
  special: SpecialTokenIds
  /** Ids the tokenizer can emit: 80-10-10 random replacements are drawn below this. */
  tokenizerVocabSize: number
  mask: MaskOptions
  temperature: number
  seed: number
}

/** What a data-parallel worker needs to build a replica identical to this one (rtd-replica.ts). */
export interface RtdReplicaOptions {
  /** The pair's options; `architecture` is the URL of the module exporting the networks as `architecture` (ArchitectureNetworks.module). */
  pair: Omit<RtdPairOptions, 'faults' | 'architecture'> & {architecture: string}
  trainable: Omit<RtdTrainableOptions, 'pair'>
}

export class RtdTrainable implements ShardableTrainable, Evaluable, EmbeddingDiagnosable {
  /** Samples of the generator phase of the current decoupled step, by micro-batch. */
  private samplesByMicroBatch = new Map<string, Int32Array>()

  constructor(readonly opts: RtdTrainableOptions) {}

  parameterGroups(): ParameterGroup[] {
    const {pair} = this.opts
    const named = (vars: tf.Variable[]): Map<string, tf.Variable> => new Map(vars.map((v) => [pair.hfName(v)!.name, v]))
    return [
      {name: 'generator', variables: named(pair.generatorVariables())},
      {name: 'discriminator', variables: named(pair.discriminatorVariables())},
    ]
  }

  private mask(batch: Batch, rng: Rng) {
    const {special, tokenizerVocabSize, mask} = this.opts
    return maskForTraining({batch, special, tokenizerVocabSize, mask, rng})
  }

  /** The generator input of a training micro-batch: masks from Rng.derive(seed, 'mask', step, microBatch) over the whole batch. */
  maskFor(batch: Batch, ctx: Pick<LossContext, 'step' | 'microBatch'>): MaskedBatch {
    return this.mask(batch, Rng.derive(this.opts.seed, 'mask', ctx.step, ctx.microBatch))
  }

  computeLossAndGrads(batch: Batch, ctx: LossContext): Promise<LossAndGrads> {
    return this.computeShare({batch, masked: this.maskFor(batch, ctx), rowOffset: 0, mlmScale: 1, rtdScale: 1}, ctx)
  }

  /**
   * Losses and gradients of some rows of a micro-batch (all of them for one replica). The
   * weights are scaled by the share's fraction of the whole batch's masked tokens (L_MLM) and
   * non-pad tokens (L_RTD), so the gradients of all shares add up to the whole batch's gradient.
   * `losses.mlm` / `losses.rtd` are this share's unscaled means (mlm is NaN without masked
   * tokens); `losses.loss` is the share's scaled objective.
   */
  async computeShare(share: RowShare, ctx: LossContext): Promise<LossAndGrads> {
    const {pair, seed} = this.opts
    const {batch, masked, rowOffset} = share
    const {step, microBatch} = ctx
    const wantGen = ctx.groups.includes('generator')
    const wantDisc = ctx.groups.includes('discriminator')
    const part: LossPart = wantGen && wantDisc ? 'joint' : wantGen ? 'generator' : 'discriminator'
    const sampleKey = `${step}/${microBatch}`
    if (part !== 'discriminator' && microBatch === 0) this.samplesByMicroBatch.clear()
    const groups = this.parameterGroups().filter((g) => ctx.groups.includes(g.name))
    const varList = groups.flatMap((g) => [...g.variables.values()])
    const losses: Record<string, number> = {}
    // Dropout masks depend on the split across replicas (one stream per share); row 0's share keeps the one-replica key.
    const dropoutKey: (string | number)[] = rowOffset === 0 ? [seed, 'dropout', step, microBatch, part] : [seed, 'dropout', step, microBatch, part, 'rows', rowOffset]
    const sampleRng = () => rowSampleRng({key: [seed, 'sample', step, microBatch], mlmMask: masked.mlmMask, seqLen: batch.seqLen, rowOffset})
    const inputs = {
      ...maskedBatchInputs(batch, masked),
      lambda: share.rtdScale === 1 ? ctx.weights.rtd : ctx.weights.rtd * share.rtdScale,
      mlmWeight: share.mlmScale === 1 ? ctx.weights.mlm : ctx.weights.mlm * share.mlmScale,
      temperature: this.opts.temperature,
    }
    // a share without masked tokens may have skipped the generator phase: nothing to replace
    let samples = part === 'discriminator' ? (this.samplesByMicroBatch.get(sampleKey) ?? (masked.mlmMask.includes(1) ? undefined : new Int32Array(0))) : undefined
    // without synchronous reads (webgpu) the samples cannot be drawn inside the tape: draw them first
    if (samples === undefined && !syncReadsWork()) samples = await drawSamples(pair, {...inputs, rng: sampleRng(), dropoutRng: Rng.derive(...dropoutKey)})
    const terms: {name: 'mlm' | 'rtd'; t: tf.Tensor}[] = []
    const {value, grads} = tf.variableGrads(() => {
      const res = pair.lossFn({...inputs, samples, sampleRng: sampleRng(), training: true, dropoutRng: Rng.derive(...dropoutKey), part})
      if (part === 'generator') this.samplesByMicroBatch.set(sampleKey, res.samples)
      // read after the backward pass, together with the loss: one read per step
      if (res.lossMlm) terms.push({name: 'mlm', t: tf.keep(res.lossMlm)})
      if (res.lossRtd) terms.push({name: 'rtd', t: tf.keep(res.lossRtd)})
      return res.loss
    }, varList)
    const values = await readScalars([...terms.map((x) => x.t), value])
    tf.dispose([...terms.map((x) => x.t), value])
    terms.forEach((x, i) => (losses[x.name] = values[i]!))
    losses.loss = values[terms.length]!
    const byGroup = new Map<string, Map<string, tf.Tensor>>()
    for (const g of groups) byGroup.set(g.name, new Map())
    for (const [tfName, grad] of Object.entries(grads)) {
      const where = pair.hfName(tfName)
      const target = where && byGroup.get(where.role)
      if (!where || !target) {
        grad.dispose()
        continue
      }
      target.set(where.name, grad)
    }
    return {grads: byGroup, losses, tokens: tokenCount(batch)}
  }

  /** Worker replicas are built by rtd-replica.ts from the pair's and this trainable's options. */
  replicaRecipe(): ReplicaRecipe {
    const {faults: _faults, architecture, ...rest} = this.opts.pair.opts
    const pair = {...rest, architecture: architecture.module}
    const {pair: _pair, ...trainable} = this.opts
    return {module: siblingModule('rtd-replica', import.meta.url), options: {pair, trainable} satisfies RtdReplicaOptions}
  }

  async evaluateBatch(batch: Batch, opts: {seed: number; index: number}): Promise<EvalBatchOutput> {
    const {pair} = this.opts
    const masked = this.mask(batch, Rng.derive(opts.seed, 'eval-mask', opts.index))
    const inputs = {...maskedBatchInputs(batch, masked), lambda: 1, temperature: this.opts.temperature}
    const sampleRng = Rng.derive(opts.seed, 'eval-sample', opts.index)
    // without synchronous reads (webgpu) the samples are drawn before the forward pass that uses them
    const samples = syncReadsWork() ? undefined : await drawSamples(pair, {...inputs, rng: sampleRng})
    const res = pair.lossFn({...inputs, samples, sampleRng, training: false, keep: true})
    try {
      const positions = maskedPositions(masked.mlmMask)
      const original = Int32Array.from(positions, (p) => batch.inputIds[p])
      const out: EvalBatchOutput = {
        discriminator: {logits: (await res.rtdLogits!.data()) as Float32Array, labels: res.rtdLabels, mask: batch.attentionMask, discInputIds: res.discInputIds, mlmMask: masked.mlmMask},
      }
      if (res.mlmLogits && positions.length > 0) {
        const [rows, vocab] = res.mlmLogits.shape
        const stats = mlmTokenStats({logits: (await res.mlmLogits.data()) as Float32Array, rows, vocab, labels: original})
        out.generator = {...stats, original, sampled: res.samples}
      }
      return out
    } finally {
      res.dispose()
    }
  }

  /**
   * GDES diagnostics (issue 12): how alike E_G and E_D are row by row, the tables' norms, and the
   * gradient norm each loss alone sends into each table on this batch (eval masks and samples of
   * batch 0, no dropout): L_MLM -> E_G and L_RTD -> E_Δ under GDES (never the other way), both into
   * E_G under ES, each into its own table under NES. A table a loss does not reach gets exactly 0.
   */
  async embeddingDiagnostics(batch: Batch, opts: {seed: number}): Promise<Record<string, number>> {
    const {pair} = this.opts
    const tables = pair.wordTables()
    const out = await embeddingTableStats(tables)
    const masked = this.mask(batch, Rng.derive(opts.seed, 'eval-mask', 0))
    // without synchronous reads (webgpu) the samples are drawn before the taped forward pass
    let samples = syncReadsWork() ? undefined : await drawSamples(pair, {...maskedBatchInputs(batch, masked), lambda: 1, temperature: this.opts.temperature, rng: Rng.derive(opts.seed, 'eval-sample', 0)})
    const named = {g: tables.generator, ...(tables.delta ? {delta: tables.delta} : {}), ...(tables.discriminator ? {d: tables.discriminator} : {})}
    for (const loss of ['mlm', 'rtd'] as const) {
      const norms = await gradientNorms(() => {
        const res = pair.lossFn({
          ...maskedBatchInputs(batch, masked),
          lambda: 1,
          temperature: this.opts.temperature,
          samples,
          sampleRng: Rng.derive(opts.seed, 'eval-sample', 0),
          training: false,
        })
        samples ??= res.samples
        return loss === 'mlm' ? res.lossMlm! : res.lossRtd!
      }, named)
      for (const [name, v] of Object.entries(norms)) out[`emb_grad_${loss}_${name}`] = v
    }
    return out
  }
}

/**
 * The replacement samples RtdPair.lossFn draws inside its forward pass, drawn beforehand with an
 * async read of the generator's logits, for backends that cannot read synchronously (webgpu).
 * Same generator forward (inputs, dropout stream) and the same host sampling, so the same
 * samples; costs one extra generator forward without a tape.
 */
async function drawSamples(pair: RtdPair, o: {inputIds: Int32Array; maskedInputIds?: Int32Array; attentionMask: Int32Array; mlmMask: Int32Array | Uint8Array; batch: number; seqLen: number; tokenTypeIds?: Int32Array; lambda: number; temperature: number; rng: Rng; dropoutRng?: Rng}): Promise<Int32Array> {
  const rows = maskedPositions(o.mlmMask).length
  if (rows === 0) return new Int32Array(0)
  // part 'generator' with placeholder samples: the generator alone, nothing drawn
  const res = pair.lossFn({...o, samples: new Int32Array(rows), part: 'generator', training: o.dropoutRng !== undefined, dropoutRng: o.dropoutRng, keep: true})
  try {
    const logits = res.mlmLogits!
    return sampleCategorical({logits: (await logits.data()) as Float32Array, rows, vocab: logits.shape[1], rng: o.rng, temperature: o.temperature})
  } finally {
    res.dispose()
  }
}
