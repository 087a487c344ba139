/**
 * The ELECTRA generator/discriminator pair with embedding sharing gdes | es | nes: the public
 * surface of the DeBERTa RtdPair (../rtd-pair.ts) over ElectraMlmModel + ElectraDiscriminator,
 * with the same RTD step (../rtd-step.ts).
 *
 * Shared tables are ELECTRA's own sharing: word, position and token-type embeddings. Under GDES
 * each discriminator table is stopgrad(X_G) + X_Δ with its own zero-init delta
 * `electra.embeddings.<table>._weight`, so the RTD loss never reaches X_G; under ES the
 * discriminator reads X_G itself. The embeddings LayerNorm and embeddings_project stay per model.
 */
import * as tf from '@tensorflow/tfjs'
import {ConfigError} from '../../errors.js'
import {EMBEDDING_SHARING, type EmbeddingSharing} from '../embeddings.js'
import {loadIntoStore, toHost, type HostTensorLike} from '../hf-tensors.js'
import {tidy, type ModelFault, type Recompute} from '../nn.js'
import {rtdStepLoss, type RtdLossOptions, type RtdLossResult} from '../rtd-step.js'
import {recomputeHelps} from '../../runtime/memory-estimate.js'
import type {ElectraConfig} from './config.js'
import {ElectraDiscriminator} from './discriminator.js'
import {ELECTRA_SHARED_TABLES} from './embeddings.js'
import {electraEncoderShape} from './encoder-shape.js'
import {isDocumentedElectraExtra, withElectraPrefix} from './hf-names.js'
import {ElectraMlmModel} from './mlm-model.js'

const EMBEDDINGS = 'electra.embeddings'

export interface ElectraPairOptions {
  discriminator: ElectraConfig
  generator: ElectraConfig
  /** Default 'gdes'. */
  sharing?: EmbeddingSharing
  /** Init seed; the generator and discriminator draw from separate streams. */
  seed: number
  /** Id written at masked positions when maskedInputIds is not given. */
  maskTokenId: number
  /** Test-only deliberate bugs (nn.ts MODEL_FAULTS; tanh-gelu applies to ELECTRA). */
  faults?: readonly ModelFault[]
  /** As RtdPairOptions.recompute. */
  recompute?: Recompute | 'auto'
}

export class ElectraPair {
  readonly generator: ElectraMlmModel
  readonly discriminator: ElectraDiscriminator
  readonly sharing: EmbeddingSharing

  constructor(readonly opts: ElectraPairOptions) {
    const sharing = opts.sharing ?? 'gdes'
    if (!EMBEDDING_SHARING.includes(sharing)) {
      throw new ConfigError(`embedding sharing ${JSON.stringify(sharing)} is not one of ${EMBEDDING_SHARING.join(', ')}`, {code: 'model.sharing_invalid'})
    }
    this.sharing = sharing
    const g = opts.generator
    const d = opts.discriminator
    const shape = (c: ElectraConfig) => `vocab ${c.vocabSize}, positions ${c.maxPositionEmbeddings}, token types ${c.typeVocabSize}, embedding_size ${c.embeddingSize}`
    if (sharing !== 'nes' && shape(g) !== shape(d)) {
      throw new ConfigError(`embedding sharing ${sharing} needs equal embedding tables, got generator (${shape(g)}) and discriminator (${shape(d)})`, {
        code: 'model.sharing_shape',
        suggestions: ['use the same vocab_size, max_position_embeddings, type_vocab_size and embedding_size for both, or sharing: nes'],
      })
    }
    this.generator = new ElectraMlmModel({config: g, seed: opts.seed})
    this.discriminator = new ElectraDiscriminator({
      config: d,
      seed: opts.seed,
      share: sharing === 'nes' ? undefined : {mode: sharing, source: this.generator.electra.embeddings},
    })
  }

  /** Variables the generator's optimizer updates (E_G, P_G, T_G included). */
  generatorVariables(): tf.Variable[] {
    return this.generator.variables()
  }

  /** Variables the discriminator's optimizer updates: GDES includes the three deltas, never a generator table; ES has no tables of its own. */
  discriminatorVariables(): tf.Variable[] {
    return [...this.discriminator.params.vars.values()]
  }

  variables(): tf.Variable[] {
    return [...this.generatorVariables(), ...this.discriminatorVariables()]
  }

  /** Which model and HF name a tf variable (or its name, as in tf.variableGrads' result) belongs to. */
  hfName(v: tf.Variable | string): {role: 'generator' | 'discriminator'; name: string} | undefined {
    const tfName = typeof v === 'string' ? v : v.name
    const g = this.generator.params.nameOf(tfName)
    if (g !== undefined) return {role: 'generator', name: g}
    const d = this.discriminator.params.nameOf(tfName)
    return d === undefined ? undefined : {role: 'discriminator', name: d}
  }

  /** One RTD step's losses (as RtdPair.lossFn). */
  lossFn(o: RtdLossOptions): RtdLossResult {
    return rtdStepLoss({generator: this.generator, discriminator: this.discriminator, maskTokenId: this.opts.maskTokenId, faults: this.opts.faults, recomputes: (B, N) => this.recomputes(B, N)}, o)
  }

  /** Whether a step at this shape recomputes layer activations (as RtdPair.recomputes). */
  recomputes(batch: number, seqLen: number): Recompute {
    const env = process.env['RTD_RECOMPUTE']
    const r = this.opts.recompute ?? (env === 'on' ? true : env === 'off' ? false : env === 'alternate' ? 'alternate' : 'auto')
    if (r !== 'auto') return r
    if (tf.getBackend() !== 'wasm') return false
    const shapes = {discriminator: electraEncoderShape(this.discriminator.config), generator: electraEncoderShape(this.generator.config)}
    return recomputeHelps({...shapes, batch, seqLen, sharing: this.sharing}) || 'alternate'
  }

  /**
   * Loads HF-named tensors, the generator first (X_G), then the discriminator: under GDES each
   * X_Δ comes from `<table>._weight` (a training checkpoint; the merged `.weight` beside it is
   * informational), or, for a plain HF discriminator without `_weight`, X_Δ = weight - X_G.
   * Under ES the discriminator's own tables in the file are ignored. Returns notes.
   */
  loadTensors(opts: {generator?: Map<string, HostTensorLike>; discriminator?: Map<string, HostTensorLike>}): string[] {
    const notes: string[] = []
    if (opts.generator) notes.push(...this.generator.loadTensors(opts.generator))
    if (opts.discriminator) {
      const t = new Map(withElectraPrefix(opts.discriminator))
      if (this.sharing === 'gdes') {
        for (const table of ELECTRA_SHARED_TABLES) {
          const prefix = `${EMBEDDINGS}.${table}`
          if (!this.discriminator.params.vars.has(`${prefix}._weight`) || t.has(`${prefix}._weight`)) continue
          const merged = t.get(`${prefix}.weight`)
          if (merged === undefined) continue
          const g = this.generator.params.get(`${prefix}.weight`).dataSync()
          t.set(`${prefix}._weight`, {shape: merged.shape, data: Float32Array.from(merged.data, (x, i) => x - g[i]!)})
          notes.push(`discriminator: no ${prefix}._weight; delta = ${prefix}.weight - generator's table`)
        }
      }
      const shared = this.sharing !== 'nes'
      const sharedWeights = new Set(ELECTRA_SHARED_TABLES.map((n) => `${EMBEDDINGS}.${n}.weight`))
      notes.push(
        ...loadIntoStore({
          store: this.discriminator.params,
          tensors: t,
          role: 'discriminator',
          isDocumentedExtra: (k) => isDocumentedElectraExtra(k, 'discriminator') || (shared && sharedWeights.has(k)),
        }),
      )
    }
    return notes
  }

  /** Generator tensors with HF names (ElectraForMaskedLM: `electra.*`, `generator_predictions.*`, `generator_lm_head.bias`). */
  exportGeneratorTensors(): Map<string, HostTensorLike> {
    return this.generator.exportTensors()
  }

  /**
   * Discriminator tensors for a Hugging Face ElectraForPreTraining export: each shared table as
   * X_G + X_Δ under GDES (X_G under ES), no `_weight`, head as `discriminator_predictions.*`.
   */
  exportDiscriminatorTensors(): Map<string, HostTensorLike> {
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) if (!k.endsWith('._weight')) out.set(k, toHost(v))
    this.addMergedTables(out)
    return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  /** Everything needed to resume: generator tensors, and discriminator tensors including the deltas next to the merged tables (fixtures/electra-tiny format). */
  trainingTensors(): {generator: Map<string, HostTensorLike>; discriminator: Map<string, HostTensorLike>} {
    const disc = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) disc.set(k, toHost(v))
    this.addMergedTables(disc)
    return {generator: this.exportGeneratorTensors(), discriminator: disc}
  }

  private addMergedTables(out: Map<string, HostTensorLike>): void {
    if (this.sharing === 'nes') return
    const tables = this.discriminator.electra.embeddings.tables
    for (const name of ELECTRA_SHARED_TABLES) {
      const ref = tables[name]
      if (ref.source === undefined) continue
      const merged = ref.mode === 'gdes' ? tidy(() => tf.add(ref.source!, ref.own!)) : ref.source
      out.set(`${EMBEDDINGS}.${name}.weight`, toHost(merged))
      if (merged !== ref.source) merged.dispose()
    }
  }

  dispose(): void {
    this.discriminator.params.dispose()
    this.generator.dispose()
  }
}
