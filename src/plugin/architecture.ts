/**
 * The `architecture` plugin kind: what an encoder family (DeBERTa-v3, ELECTRA, ...) gives the
 * objectives (gdes, mlm), `rtd export`, `rtd verify`, the memory check and `rtd plan`.
 *
 * An architecture plugin has two halves:
 * - the plugin object (ArchitecturePlugin): name, the JSON Schema of `model.config` (a scratch
 *   config in Hugging Face config.json field names), the HF `model_type`s it reads, and pure
 *   config functions (parse/write config.json, scratch config, generator config, memory/FLOP
 *   shape). No tensors: `rtd validate`, `rtd plugins` and `rtd plan` use it without
 *   loading TensorFlow.js.
 * - the networks (ArchitectureNetworks), returned by `load()` (a dynamic import): an encoder, a
 *   masked-LM (the generator, or the `mlm` baseline) and a discriminator (encoder + one logit
 *   per token), each naming its parameters the Hugging Face way and exposing its embedding
 *   tables so that GDES / ES / NES work for any architecture.
 *
 * A pipeline picks one with `model: {plugin: gdes, architecture: <name>, config: {...}}`
 * (default `deberta-v3`). External architectures are listed under `plugins:` like any other
 * plugin (docs/plugins.md).
 */
import type {ArchitectureConfigs, ArchitectureNetworks} from '../model/architecture.js'
import type {JsonSchema, PluginProblem} from './contract.js'

// The networks contract lives beside the model code that implements it (no src/model -> src/plugin import).
export * from '../model/architecture.js'

/** The registry entry of an architecture (see the file comment). */
export interface ArchitecturePlugin<C = any> {
  /** The value users write as `model.architecture`. */
  readonly name: string
  readonly kind: 'architecture'
  /** One line for `rtd plugins`. */
  readonly summary: string
  /** JSON Schema of `model.config` (HF config.json names, defaults, descriptions). */
  readonly schema: JsonSchema
  /** HF `model_type`s whose config.json this architecture reads (`from:` checkpoints, `rtd verify`). */
  readonly modelTypes: readonly string[]
  readonly configs: ArchitectureConfigs<C>
  /** Cheap cross-field checks of `model.config` (defaults filled in), run by `rtd validate`. Paths start at the pipeline root. */
  check?(config: Record<string, unknown>, pipeline: Record<string, any>): PluginProblem[]
  /** The networks; a dynamic import, so that listing and validating load no TensorFlow.js. */
  load(): Promise<ArchitectureNetworks<C>>
}
