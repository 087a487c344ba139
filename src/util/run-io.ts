/**
 * How long-running work reports and stops: the logger, metrics sink and progress bars a stage
 * gets from the runner, and the part of a stage's RunContext (src/plugin/run-context.ts extends
 * RunIo) that the training loop and data preparation need. Here, below src/plugin, so that
 * src/train, src/data and src/report use them without importing the plugin contract.
 */

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

/** Where a run writes, how it reports, when it stops. */
export interface RunIo {
  /** Absolute path of this run's directory (already created). */
  readonly runDir: string
  readonly log: Logger
  readonly metrics: MetricsSink
  /** Aborted on Ctrl-C: check it at safe points, save, then throw Interrupted. */
  readonly signal: AbortSignal
  progress(opts: {label: string; total?: number; unit?: string}): ProgressBar
}
