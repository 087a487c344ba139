/**
 * The ELECTRA-style generator/discriminator pair with embedding sharing gdes | es | nes
 * (SPEC A.3-A.6, B.6, B.7.5; Microsoft rtd_task.py RTDModel), for any architecture: the
 * networks come from an architecture plugin (src/plugin/architecture.ts), which also says
 * which embedding tables are shared (DeBERTa-v3: word and absolute position; ELECTRA: word,
 * position and token type), each with its own zero-init delta under GDES.
 *
 * One step: the generator reads the masked input and predicts the masked tokens (L_MLM); a
 * replacement is sampled per masked position from softmax(logits/T) on the host (no gradient);
 * the discriminator reads the corrupted input and labels every token replaced or original
 * (L_RTD over all non-pad tokens). L = w·L_MLM + λ·L_RTD. Under GDES the discriminator's word
 * table is stopgrad(E_G) + E_Δ, so the RTD loss never reaches E_G and the MLM loss never
 * reaches E_Δ.
 */
import * as tf from '#tfjs'
import {ConfigError} from '../errors.js'
import type {ArchitectureNetworks, DiscriminatorNet, MaskedLmNet, NamedParameters} from './architecture.js'
import {EMBEDDING_SHARING, type EmbeddingSharing} from './embedding-sharing.js'
import {addFreshHeads, freshHeadsWarning} from './fresh-heads.js'
import {toHost, type HostTensorLike} from './hf-tensors.js'
import {tidy, type ModelFault, type Recompute} from './nn.js'
import {rtdStepLoss, type RtdLossOptions, type RtdLossResult} from './rtd-step.js'
import {autoRecompute} from '../runtime/memory-estimate.js'

export {LOSS_PARTS} from './rtd-step.js'
export type {LossPart, RtdLossOptions, RtdLossResult} from './rtd-step.js'

export interface RtdPairOptions<C = any, G extends MaskedLmNet<C> = MaskedLmNet<C>, D extends DiscriminatorNet<C> = DiscriminatorNet<C>> {
  /** Builds the networks (an architecture plugin's `load()`). */
  architecture: ArchitectureNetworks<C, G, D>
  discriminator: C
  generator: C
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

export class RtdPair<C = any, G extends MaskedLmNet<C> = MaskedLmNet<C>, D extends DiscriminatorNet<C> = DiscriminatorNet<C>> {
  readonly generator: G
  readonly discriminator: D
  readonly sharing: EmbeddingSharing

  constructor(readonly opts: RtdPairOptions<C, G, D>) {
    const sharing = opts.sharing ?? 'gdes'
    if (!EMBEDDING_SHARING.includes(sharing)) {
      throw new ConfigError(`embedding sharing ${JSON.stringify(sharing)} is not one of ${EMBEDDING_SHARING.join(', ')}`, {code: 'model.sharing_invalid'})
    }
    this.sharing = sharing
    const arch = opts.architecture
    const g = arch.configs.facts(opts.generator)
    const d = arch.configs.facts(opts.discriminator)
    if (sharing !== 'nes' && (g.vocabSize !== d.vocabSize || g.embeddingSize !== d.embeddingSize)) {
      throw new ConfigError(
        `embedding sharing ${sharing} needs equal word tables, got generator [${g.vocabSize}, ${g.embeddingSize}] and discriminator [${d.vocabSize}, ${d.embeddingSize}]`,
        {code: 'model.sharing_shape', suggestions: ['use the same vocab_size and embedding_size for both, or sharing: nes']},
      )
    }
    this.generator = arch.createMaskedLm({config: opts.generator, seed: opts.seed})
    try {
      this.discriminator = arch.createDiscriminator({
        config: opts.discriminator,
        seed: opts.seed,
        ...(sharing === 'nes' ? {} : {share: {mode: sharing, tables: this.generator.embeddingTables()}}),
      })
    } catch (e) {
      // e.g. the architecture's own check of the shared tables' shapes: no variables left behind
      this.generator.dispose()
      throw e
    }
  }

  /** Variables the generator's optimizer updates (E_G included). */
  generatorVariables(): tf.Variable[] {
    return this.generator.variables()
  }

  /** Variables the discriminator's optimizer updates: GDES includes the deltas (E_Δ), never E_G; ES has no shared table of its own. */
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
    const generator = this.generator.embeddingTables().word!
    const word = this.discriminator.sharedTables().find((s) => s.name === 'word')
    if (this.sharing === 'gdes') return {generator, delta: word!.delta!}
    if (this.sharing === 'es') return {generator}
    return {generator, discriminator: this.discriminator.ownTables().word!}
  }

  /** Which model and HF name a tf variable (or its name, as in tf.variableGrads' result) belongs to. */
  hfName(v: tf.Variable | string): {role: 'generator' | 'discriminator'; name: string} | undefined {
    const tfName = typeof v === 'string' ? v : v.name
    const g = this.generator.params.nameOf(tfName)
    if (g !== undefined) return {role: 'generator', name: g}
    const d = this.discriminator.params.nameOf(tfName)
    return d === undefined ? undefined : {role: 'discriminator', name: d}
  }

  /** One RTD step's losses (src/model/rtd-step.ts). Usable inside tf.variableGrads / optimizer.minimize (return `.loss`). */
  lossFn(o: RtdLossOptions): RtdLossResult {
    return rtdStepLoss({generator: this.generator, discriminator: this.discriminator, maskTokenId: this.opts.maskTokenId, faults: this.opts.faults, recomputes: (B, N) => this.recomputes(B, N)}, o)
  }

  /** Whether a step at this shape recomputes layer activations (see RtdPairOptions.recompute). */
  recomputes(batch: number, seqLen: number): Recompute {
    // RTD_RECOMPUTE=on|off overrides 'auto' (to compare both on one command, e.g. rtd verify)
    const env = process.env['RTD_RECOMPUTE']
    const r = this.opts.recompute ?? (env === 'on' ? true : env === 'off' ? false : env === 'alternate' ? 'alternate' : 'auto')
    if (r !== 'auto') return r
    // wasm and native: every layer when memory would be crowded; otherwise on wasm every other layer
    // where that cuts the estimated peak by a tenth, which keeps a training step near PyTorch's memory
    // for ~25% more time (docs/performance.md, window F); small models, and native: none (autoRecompute)
    const shape = this.opts.architecture.configs.shape
    return autoRecompute({discriminator: shape(this.discriminator.config), generator: shape(this.generator.config), batch, seqLen, sharing: this.sharing}, tf.getBackend())
  }

  /**
   * Loads HF-named tensors. The generator first (E_G), then the discriminator: under GDES each
   * shared table's delta comes from its `deltaName` (a training checkpoint; the merged table
   * beside it is informational), or, for a plain HF discriminator without deltas,
   * delta = merged table - generator's table. A shared table's own copy in the file is ignored
   * (ES, GDES). A head the file lacks entirely keeps its fresh initialisation (fresh-heads.ts);
   * `warn` gets one line naming its tensors (without `warn` the line is among the notes).
   * `sources` name the files in that line. Returns notes.
   */
  loadTensors(opts: {generator?: Map<string, HostTensorLike>; discriminator?: Map<string, HostTensorLike>; warn?: (message: string) => void; sources?: {generator?: string; discriminator?: string}}): string[] {
    const notes: string[] = []
    const warn = opts.warn ?? ((m: string) => notes.push(m))
    const withHeads = (role: 'generator' | 'discriminator', params: NamedParameters, tensors: Map<string, HostTensorLike>) => {
      const r = addFreshHeads({params, tensors})
      if (r.fresh.length > 0) warn(freshHeadsWarning({role, source: opts.sources?.[role] ?? 'the starting checkpoint', fresh: r.fresh}))
      return r.tensors
    }
    if (opts.generator) notes.push(...this.generator.loadTensors(withHeads('generator', this.generator.params, opts.generator)))
    if (opts.discriminator) {
      const t = new Map(withHeads('discriminator', this.discriminator.params, this.discriminator.canonicalNames(opts.discriminator)))
      const shared = this.discriminator.sharedTables()
      for (const s of shared) {
        if (s.delta === undefined || s.deltaName === undefined || t.has(s.deltaName)) continue
        const merged = t.get(s.hfName)
        if (merged === undefined) continue
        const g = s.source.dataSync()
        t.set(s.deltaName, {shape: merged.shape, data: Float32Array.from(merged.data, (x, i) => x - g[i])})
        notes.push(`discriminator: no ${s.deltaName}; E_delta = ${s.hfName} - generator's table`)
      }
      const sharedNames = new Set(shared.map((s) => s.hfName))
      notes.push(...this.discriminator.loadTensors(t, {ignore: (k) => sharedNames.has(k)}))
    }
    return notes
  }

  /** Generator tensors with HF names. */
  exportGeneratorTensors(): Map<string, HostTensorLike> {
    return this.generator.exportTensors()
  }

  /**
   * Discriminator tensors for a Hugging Face export (SPEC A.9, B.6.4): each shared table merged
   * under its HF name (E_G + E_Δ under GDES, E_G under ES), no deltas.
   */
  exportDiscriminatorTensors(): Map<string, HostTensorLike> {
    const deltas = new Set(this.discriminator.sharedTables().flatMap((s) => (s.deltaName ? [s.deltaName] : [])))
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) if (!deltas.has(k)) out.set(k, toHost(v))
    this.addMergedTables(out)
    return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  /**
   * Everything needed to resume: generator tensors, and discriminator tensors including the
   * deltas next to the merged tables (the format of fixtures/deberta-tiny).
   */
  trainingTensors(): {generator: Map<string, HostTensorLike>; discriminator: Map<string, HostTensorLike>} {
    const disc = new Map<string, HostTensorLike>()
    for (const [k, v] of this.discriminator.params.vars) disc.set(k, toHost(v))
    this.addMergedTables(disc)
    return {generator: this.exportGeneratorTensors(), discriminator: disc}
  }

  private addMergedTables(out: Map<string, HostTensorLike>): void {
    for (const s of this.discriminator.sharedTables()) {
      // E_G + E_Δ added on the host from the variables' own values (float32 adds, the same bits as
      // tf.add): a caller on webgpu can read variables ahead (async), not a tensor made here
      const merged = toHost(s.source)
      if (s.mode === 'gdes' && s.delta) {
        const delta = toHost(s.delta).data
        merged.data = Float32Array.from(merged.data, (x, i) => x + delta[i]!)
      }
      out.set(s.hfName, merged)
    }
  }

  dispose(): void {
    this.discriminator.dispose()
    this.generator.dispose()
  }
}
