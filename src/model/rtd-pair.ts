/**
 * The ELECTRA-style generator/discriminator pair of DeBERTa-v3 with embedding sharing
 * gdes | es | nes (SPEC A.3-A.6, B.6, B.7.5; Microsoft rtd_task.py RTDModel).
 *
 * One step: the generator reads the masked input and predicts the masked tokens (L_MLM); a
 * replacement is sampled per masked position from softmax(logits/T) on the host (no gradient);
 * the discriminator reads the corrupted input and labels every token replaced or original
 * (L_RTD over all non-pad tokens). L = w·L_MLM + λ·L_RTD. Under GDES the discriminator's word
 * table is stopgrad(E_G) + E_Δ, so the RTD loss never reaches E_G and the MLM loss never
 * reaches E_Δ.
 */
import * as tf from '@tensorflow/tfjs'
import {ConfigError} from '../errors.js'
import type {DebertaConfig} from './config.js'
import {Discriminator} from './discriminator.js'
import {EMBEDDING_SHARING, type EmbeddingSharing} from './embeddings.js'
import {isDocumentedExtra, loadIntoStore, toHost, withDebertaPrefix, type HostTensorLike} from './hf-tensors.js'
import {MlmModel} from './mlm-model.js'
import {tidy, type ModelFault, type Recompute} from './nn.js'
import {rtdStepLoss, type RtdLossOptions, type RtdLossResult} from './rtd-step.js'
import {recomputeHelps} from '../runtime/memory-estimate.js'
import {encoderShapeOf} from './encoder-shape.js'

export {LOSS_PARTS} from './rtd-step.js'
export type {LossPart, RtdLossOptions, RtdLossResult} from './rtd-step.js'

const WORD = 'deberta.embeddings.word_embeddings'
const POSITION = 'deberta.embeddings.position_embeddings'

export interface RtdPairOptions {
  discriminator: DebertaConfig
  generator: DebertaConfig
  /** Default 'gdes'. */
  sharing?: EmbeddingSharing
  /** Init seed (SPEC B.2.6); the generator and discriminator draw from separate streams. */
  seed: number
  /** Id written at masked positions when maskedInputIds is not given. */
  maskTokenId: number
  /** Test-only deliberate bugs (nn.ts MODEL_FAULTS). */
  faults?: readonly ModelFault[]
  /**
   * Recompute encoder-layer activations in the backward pass (recompute.ts; same results, less
   * memory, ~1 extra forward of time). Default 'auto': on for the wasm backend when the step
   * would otherwise not fit its 4 GiB heap comfortably (runtime/memory-estimate.ts).
   */
  recompute?: Recompute | 'auto'
}

export class RtdPair {
  readonly generator: MlmModel
  readonly discriminator: Discriminator
  readonly sharing: EmbeddingSharing

  constructor(readonly opts: RtdPairOptions) {
    const sharing = opts.sharing ?? 'gdes'
    if (!EMBEDDING_SHARING.includes(sharing)) {
      throw new ConfigError(`embedding sharing ${JSON.stringify(sharing)} is not one of ${EMBEDDING_SHARING.join(', ')}`, {code: 'model.sharing_invalid'})
    }
    this.sharing = sharing
    const g = opts.generator
    const d = opts.discriminator
    if (sharing !== 'nes' && (g.vocabSize !== d.vocabSize || g.embeddingSize !== d.embeddingSize)) {
      throw new ConfigError(
        `embedding sharing ${sharing} needs equal word tables, got generator [${g.vocabSize}, ${g.embeddingSize}] and discriminator [${d.vocabSize}, ${d.embeddingSize}]`,
        {code: 'model.sharing_shape', suggestions: ['use the same vocab_size and embedding_size for both, or sharing: nes']},
      )
    }
    this.generator = new MlmModel({config: g, seed: opts.seed})
    this.discriminator = new Discriminator({
      config: d,
      seed: opts.seed,
      share: sharing === 'nes' ? undefined : {mode: sharing, source: this.generator.deberta.embeddings},
    })
  }

  /** Variables the generator's optimizer updates (E_G included). */
  generatorVariables(): tf.Variable[] {
    return this.generator.variables()
  }

  /** Variables the discriminator's optimizer updates: GDES includes E_Δ (`word_embeddings._weight`), never E_G; ES has no word table of its own. */
  discriminatorVariables(): tf.Variable[] {
    return [...this.discriminator.params.vars.values()]
  }

  variables(): tf.Variable[] {
    return [...this.generatorVariables(), ...this.discriminatorVariables()]
  }

  /**
   * The word tables behind the embedding sharing (for diagnostics): E_G always; under GDES E_Δ
   * (E_D = E_G + E_Δ is never stored); under NES the discriminator's own E_D; under ES E_D is E_G.
   */
  wordTables(): {generator: tf.Variable; delta?: tf.Variable; discriminator?: tf.Variable} {
    const generator = this.generator.deberta.embeddings.wordTable()
    const word = this.discriminator.deberta.embeddings.word
    if (this.sharing === 'gdes') return {generator, delta: word.own!}
    if (this.sharing === 'es') return {generator}
    return {generator, discriminator: this.discriminator.deberta.embeddings.wordTable()}
  }

  /** Which model and HF name a tf variable (or its name, as in tf.variableGrads' result) belongs to. */
  hfName(v: tf.Variable | string): {role: 'generator' | 'discriminator'; name: string} | undefined {
    const tfName = typeof v === 'string' ? v : v.name
    const g = this.generator.params.nameOf(tfName)
    if (g !== undefined) return {role: 'generator', name: g}
    const d = this.discriminator.params.nameOf(tfName)
    return d === undefined ? undefined : {role: 'discriminator', name: d}
  }

  /**
   * One RTD step's losses. Usable inside tf.variableGrads / optimizer.minimize (return `.loss`).
   * Host-side work (masking defaults, sampling, labels) happens here; sampling reads the logits
   * with dataSync and never enters the tape.
   */
  lossFn(o: RtdLossOptions): RtdLossResult {
    return rtdStepLoss({generator: this.generator, discriminator: this.discriminator, maskTokenId: this.opts.maskTokenId, faults: this.opts.faults, recomputes: (B, N) => this.recomputes(B, N)}, o)
  }

  /** Whether a step at this shape recomputes layer activations (see RtdPairOptions.recompute). */
  recomputes(batch: number, seqLen: number): Recompute {
    // RTD_RECOMPUTE=on|off overrides 'auto' (to compare both on one command, e.g. rtd verify)
    const env = process.env['RTD_RECOMPUTE']
    const r = this.opts.recompute ?? (env === 'on' ? true : env === 'off' ? false : env === 'alternate' ? 'alternate' : 'auto')
    if (r !== 'auto') return r
    if (tf.getBackend() !== 'wasm') return false
    // every layer when the heap would be crowded; otherwise every other layer, which keeps a
    // training step near PyTorch's memory for ~25% more time (docs/performance.md, window F)
    return recomputeHelps({discriminator: encoderShapeOf(this.discriminator.config), generator: encoderShapeOf(this.generator.config), batch, seqLen, sharing: this.sharing}) || 'alternate'
  }

  /**
   * Loads HF-named tensors. The generator first (E_G), then the discriminator: under GDES its
   * E_Δ comes from `word_embeddings._weight` (a training checkpoint; the merged `.weight` beside
   * it is informational), or, for a plain HF discriminator without `_weight`, E_Δ = weight - E_G.
   * Under ES the discriminator's own word table in the file is ignored. Returns notes.
   */
  loadTensors(opts: {generator?: Map<string, HostTensorLike>; discriminator?: Map<string, HostTensorLike>}): string[] {
    const notes: string[] = []
    if (opts.generator) notes.push(...this.generator.loadTensors(opts.generator))
    if (opts.discriminator) {
      const t = new Map(withDebertaPrefix(opts.discriminator))
      if (this.sharing === 'gdes') {
        for (const [prefix, store] of [[WORD, this.generator.params], [POSITION, this.generator.params]] as const) {
          if (!this.discriminator.params.vars.has(`${prefix}._weight`) || t.has(`${prefix}._weight`)) continue
          const merged = t.get(`${prefix}.weight`)
          if (merged === undefined) continue
          const g = store.get(`${prefix}.weight`).dataSync()
          t.set(`${prefix}._weight`, {shape: merged.shape, data: Float32Array.from(merged.data, (x, i) => x - g[i])})
          notes.push(`discriminator: no ${prefix}._weight; E_delta = ${prefix}.weight - generator's table`)
        }
      }
      const shared = this.sharing !== 'nes'
      notes.push(
        ...loadIntoStore({
          store: this.discriminator.params,
          tensors: t,
          role: 'discriminator',
          isDocumentedExtra: (k) => isDocumentedExtra(k, 'discriminator') || (shared && (k === `${WORD}.weight` || k === `${POSITION}.weight`)),
        }),
      )
    }
    return notes
  }

  /** Generator tensors with HF names (`deberta.*`, `lm_predictions.lm_head.*`). */
  exportGeneratorTensors(): Map<string, HostTensorLike> {
    return this.generator.exportTensors()
  }

  /**
   * Discriminator tensors for a Hugging Face export (SPEC A.9, B.6.4): word_embeddings.weight =
   * E_G + E_Δ under GDES (E_G under ES), no `_weight`, RTD head as `mask_predictions.*`.
   */
  exportDiscriminatorTensors(): Map<string, HostTensorLike> {
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) if (!k.endsWith('._weight')) out.set(k, toHost(v))
    this.addMergedTables(out)
    return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  /**
   * Everything needed to resume: generator tensors, and discriminator tensors including E_Δ
   * (`_weight`) next to the merged table (the format of fixtures/deberta-tiny).
   */
  trainingTensors(): {generator: Map<string, HostTensorLike>; discriminator: Map<string, HostTensorLike>} {
    const disc = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) disc.set(k, toHost(v))
    this.addMergedTables(disc)
    return {generator: this.exportGeneratorTensors(), discriminator: disc}
  }

  private addMergedTables(out: Map<string, HostTensorLike>): void {
    if (this.sharing === 'nes') return
    const emb = this.discriminator.deberta.embeddings
    for (const [prefix, ref] of [[WORD, emb.word], [POSITION, emb.position]] as const) {
      if (ref === undefined || ref.source === undefined) continue
      const merged = ref.mode === 'gdes' ? tidy(() => tf.add(ref.source!, ref.own!)) : ref.source
      out.set(`${prefix}.weight`, toHost(merged))
      if (merged !== ref.source) merged.dispose()
    }
  }

  dispose(): void {
    this.discriminator.params.dispose()
    this.generator.dispose()
  }
}
