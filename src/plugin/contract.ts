/**
 * The plugin contract. A plugin module's default export (or named export `plugin`, or an
 * array `plugins`) is an RtdPlugin. Built-in plugins live in plugins/<name>/index.ts;
 * external ones are named in a pipeline's `plugins:` list (npm package or path).
 *
 * A pipeline section that has a `plugin:` key (data, model, evaluation) is validated by that
 * plugin's `schema` and handed to `create` with defaults filled in. The runner creates every
 * stage first (so a model stage can call the evaluation stage during training), then runs
 * them in STAGE_KINDS order and then the export stage (src/export/export-stage.ts), passing
 * one RunState along. Architecture plugins (src/plugin/architecture.ts) are not stages: model
 * plugins build their networks with them.
 */
import type {EncoderShape} from '../runtime/memory-estimate.js'
import type {RunContext} from './run-context.js'

import type * as tf from '#tfjs'
import type {PreparedData} from '../data/prepared-data.js'
import type {Evaluable} from '../eval/evaluable.js'
import type {ArchitecturePlugin} from './architecture.js'

/** Stage kinds (pipeline sections with a `plugin:` key), in the order the runner executes them. */
export const STAGE_KINDS = ['data', 'model', 'evaluation', 'finetune'] as const
export type StageKind = (typeof STAGE_KINDS)[number]

/** Stage kinds whose section is a list of stages, run in order (several fine-tuning tasks after one pretraining). */
export const LIST_STAGE_KINDS: readonly StageKind[] = ['finetune']

/** The stages a pipeline section holds, with their paths: none when absent, one for a mapping, one per item of a list kind. */
export function stageEntries(pipeline: Record<string, any>, kind: StageKind): {path: (string | number)[]; stage: Record<string, unknown>}[] {
  const v = pipeline[kind]
  if (v === undefined || v === null) return []
  if (Array.isArray(v)) return LIST_STAGE_KINDS.includes(kind) ? v.map((stage, i) => ({path: [kind, i], stage})) : []
  return typeof v === 'object' ? [{path: [kind], stage: v}] : []
}

/** Every plugin kind: the stages, and `architecture` (src/plugin/architecture.ts), which model plugins build on. */
export const PLUGIN_KINDS = [...STAGE_KINDS, 'architecture'] as const
export type PluginKind = (typeof PLUGIN_KINDS)[number]

/** Any registered plugin. */
export type AnyPlugin = RtdPlugin<any> | ArchitecturePlugin

/** A JSON Schema (2020-12) object schema for a stage's options, without the `plugin` key. */
export type JsonSchema = Record<string, unknown>

export interface RtdPlugin<Options = Record<string, unknown>> {
  /** The value users write as `plugin: <name>` in the stage. */
  readonly name: string
  readonly kind: StageKind
  /** One line for `rtd plugins`. */
  readonly summary: string
  /** Options of the stage: `type: object`, `properties` with `default`s and `description`s. */
  readonly schema: JsonSchema
  /** Build the stage. `options` are validated and have defaults filled in. No heavy work here. */
  create(options: Options, ctx: RunContext): Stage | Promise<Stage>
  /**
   * Optional cross-field checks, run by `rtd validate` and before `rtd run` writes anything
   * (e.g. SPEC A.10: tokenizer vocab and special ids against the model config). Called only
   * when the whole pipeline passed the schema, with defaults filled in. Cheap checks only:
   * no tensors, no downloads, no files written.
   */
  check?(options: Options, pipeline: Record<string, any>): PluginProblem[] | Promise<PluginProblem[]>
  /**
   * Optional: what must be reachable before any work starts, e.g. the hub repositories the stage
   * will read (a 401 for a gated repo without HF_TOKEN, HF_HUB_OFFLINE with nothing cached).
   * `rtd run` calls it in its pre-flight (src/pipeline/preflight.ts), before the run directory
   * exists; throw a ConfigError naming the option, what is wrong and what to do. Metadata
   * requests only: no downloads, no files written.
   */
  preflight?(options: Options, ctx: PreflightContext): Promise<void>
  /**
   * Optional: what the stage will cost, from metadata only (`rtd plan`, and the memory fit check
   * `rtd run` makes before it downloads or tokenizes anything): a model stage reports the encoder
   * shapes a training step works on, a data stage how much text there is. Never reads weights or
   * data; at most a model's config.json through `io`.
   */
  plan?(options: Options, pipeline: Record<string, any>, io: PlanIo): StagePlan | Promise<StagePlan>
  /**
   * Model plugins: rebuild the networks a run's model stage recorded in <runDir>/model/model.json
   * (its `describe()`), with fresh weights, for `rtd export` to load a checkpoint into.
   */
  restore?(record: Record<string, unknown>, ctx: RestoreContext): Promise<RestoredModel>
}

export interface PreflightContext {
  /** The pipeline file, as messages should name it (relative to the working directory). */
  readonly pipelineFile: string
  /** Resolve a path written in the pipeline (relative to the pipeline file's folder). */
  resolvePath(p: string): string
}

export interface RestoreContext {
  /** The architecture plugin of that name; a ConfigError when there is none. */
  architecture(name: string): ArchitecturePlugin
  /** Where the record came from (for error messages). */
  where: string
}

/** A model rebuilt from its record: the checkpoint's variables by group and HF name, and its export. */
export interface RestoredModel {
  /** As the trainer saved them: checkpoint tensor `<group>/<name>` is `variables.get(name)` of group `group`. */
  parameterGroups(): {name: string; variables: Map<string, tf.Variable>}[]
  /** Write the Hugging Face folder(s) under `dir`; returns output name -> path. */
  exportTo(opts: {dir: string; tokenizerDir: string}): Record<string, string>
  dispose(): void
}

/** What plan() may read. */
export interface PlanIo {
  /** Paths in the pipeline are relative to its file. */
  resolvePath(p: string): string
  /** config.json of a local model folder or a hub model (only that file is fetched). */
  readModelConfig(from: string, option: string): Promise<Record<string, unknown>>
  /** The architecture plugin of that name; a ConfigError when there is none. */
  architecture(name: string): ArchitecturePlugin
}

/** A stage's plan (see RtdPlugin.plan). */
export interface StagePlan {
  /** Model stages: the training step's shapes (the memory and FLOP model takes these). */
  model?: {discriminator: EncoderShape; generator: EncoderShape; sharing: 'gdes' | 'es' | 'nes'; maskRate: number; summary: string
    /** false: runtime.workers does not split this model's batch over replicas (it trains on one). Default true. */
    dataParallel?: boolean}
  /** Data stages: sequence length, and training sequences per epoch when known or estimable. */
  data?: {maxLength: number; trainSequences?: number; estimated?: boolean; note: string}
}

/** One problem found by RtdPlugin.check. */
export interface PluginProblem {
  /** Dotted path from the pipeline root, e.g. `model.vocab_size` or `data.tokenizer`. */
  path: string
  /** What is wrong: the value given and what is expected. */
  message: string
}

export interface Stage {
  /** Do the stage's work, reading and adding to the shared state. */
  run(state: RunState): Promise<void>
  /**
   * Evaluation stages only: score a model on held-out data. The runner hands it to the model
   * stage as `state.evaluate`, so training can evaluate at its cadence; the stage's own `run`
   * does the final evaluation.
   */
  evaluate?: EvaluateHook
}

/** Scores a model's held-out batches; `final` for the evaluation after training. */
export type EvaluateHook = (model: Evaluable, data: PreparedData, opts: {step: number; final: boolean}) => Promise<Record<string, number>>

/** What a model stage hands to the evaluation and export stages. */
export interface TrainedModel {
  /** What the evaluation stage scores. */
  evaluable: Evaluable
  /** Optimizer steps the weights have had, and the epoch to record with the final evaluation. */
  step: number
  epoch: number
  /** The newest complete checkpoint of these weights, when training wrote one. */
  checkpoint?: string
  /** For the export stage: where the Hugging Face folder(s) go, and how to write them. */
  export: {
    /** `<output.dir>/<save_name>`. */
    dir: string
    write(opts: {dir: string; tokenizerDir: string}): Record<string, string> | Promise<Record<string, string>>
  }
}

/**
 * What stages hand each other, in order data -> model -> evaluation -> export. Each field is
 * owned by one kind of stage; the types live where that machinery does (src/data, src/pretrain).
 */
export interface RunState {
  /** Set by the data stage. */
  data?: PreparedData
  /** Set by the model stage. */
  model?: TrainedModel
  /** Set by the runner from the evaluation stage's `evaluate`, when the pipeline has one (for evaluations during training). */
  evaluate?: EvaluateHook
  /** Metrics of the final evaluation (the evaluation stage), returned by `rtd run --json`. */
  metrics?: Record<string, number>
  /** Paths written by the run that the user cares about (exported model, checkpoint...). */
  outputs?: Record<string, string>
}
