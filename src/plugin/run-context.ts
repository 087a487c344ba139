/** What every stage gets from the runner: the resolved pipeline, where to write, how to report. */
import type {RunIo} from '../util/run-io.js'
import type {ArchitecturePlugin} from './architecture.js'

// The reporting types and the training loop's part of the context live below src/plugin (src/util/run-io.ts).
export type {Logger, MetricsSink, ProgressBar, RunIo} from '../util/run-io.js'

export interface RunContext extends RunIo {
  /** The fully resolved pipeline (extends merged, overrides applied, defaults filled in). */
  readonly pipeline: Record<string, any>
  /** Absolute path of the pipeline file; relative paths in it resolve against its folder. */
  readonly pipelineFile: string
  /** Absolute path of a cache root shared across runs (data shards etc.). RTD_CACHE or ~/.cache/rtd. */
  readonly cacheDir: string
  readonly seed: number
  /**
   * Set when this run continues an interrupted or failed one (`rtd run --resume`): the run
   * directory being continued (equal to runDir; logs and metrics are appended). Stages load
   * their latest checkpoint from it.
   */
  readonly resumeDir?: string
  /** Resolve a path written in the pipeline (relative to the pipeline file's folder). */
  resolvePath(p: string): string
  /** The architecture plugin of that name (built-in or from the pipeline's `plugins:`); a ConfigError when there is none. */
  architecture(name: string): ArchitecturePlugin
  /** The architecture plugin that reads config.json files of this HF `model_type` (fine-tuning a model folder), if any. */
  architectureForModelType?(modelType: string): ArchitecturePlugin | undefined
}
