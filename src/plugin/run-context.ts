/** What every stage gets from the runner: the resolved pipeline, where to write, how to report. */
import type {ArchitecturePlugin} from './architecture.js'

export interface Logger {
  info(message: string): void
  warn(message: string): void
  /** Only with --verbose / DEBUG=rtd*; always written to the run log. */
  debug(message: string): void
}

/** One JSON object per line in <runDir>/metrics.jsonl. */
export interface MetricsSink {
  write(record: Record<string, unknown>): void
}

/** A progress bar on stderr (a no-op when stderr is not a TTY or --json is set). */
export interface ProgressBar {
  update(done: number, fields?: Record<string, string | number>): void
  stop(): void
}

export interface RunContext {
  /** The fully resolved pipeline (extends merged, overrides applied, defaults filled in). */
  readonly pipeline: Record<string, any>
  /** Absolute path of the pipeline file; relative paths in it resolve against its folder. */
  readonly pipelineFile: string
  /** Absolute path of this run's directory (already created). */
  readonly runDir: string
  /** Absolute path of a cache root shared across runs (data shards etc.). RTD_CACHE or ~/.cache/rtd. */
  readonly cacheDir: string
  readonly seed: number
  readonly log: Logger
  readonly metrics: MetricsSink
  /** Aborted on Ctrl-C: check it at safe points, save, then throw Interrupted. */
  readonly signal: AbortSignal
  /**
   * Set when this run continues an interrupted or failed one (`rtd run --resume`): the run
   * directory being continued (equal to runDir; logs and metrics are appended). Stages load
   * their latest checkpoint from it.
   */
  readonly resumeDir?: string
  /** Resolve a path written in the pipeline (relative to the pipeline file's folder). */
  resolvePath(p: string): string
  progress(opts: {label: string; total?: number; unit?: string}): ProgressBar
  /** The architecture plugin of that name (built-in or from the pipeline's `plugins:`); a ConfigError when there is none. */
  architecture(name: string): ArchitecturePlugin
  /** The architecture plugin that reads config.json files of this HF `model_type` (fine-tuning a model folder), if any. */
  architectureForModelType?(modelType: string): ArchitecturePlugin | undefined
}
