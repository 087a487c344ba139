/**
 * Every error rtd raises on purpose descends from RtdError. The CLI maps `exitCode` to the
 * process exit status in one place (src/cli/handle-error.ts); nothing else calls process.exit.
 */
export class RtdError extends Error {
  /** Stable machine-readable code, e.g. `pipeline.invalid`, `model.shape_mismatch`. */
  readonly code: string
  /** Process exit status the CLI uses: 2 = bad input/config/usage, 1 = runtime failure. */
  readonly exitCode: number
  /** What the user can do about it, one line each. */
  readonly suggestions: string[]

  constructor(message: string, opts: {code: string; exitCode?: number; suggestions?: string[]; cause?: unknown}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    Object.setPrototypeOf(this, new.target.prototype) // keep instanceof after down-compilation
    this.name = new.target.name
    this.code = opts.code
    this.exitCode = opts.exitCode ?? 1
    this.suggestions = opts.suggestions ?? []
  }
}

/** Invalid user input: a pipeline, a config file, a CLI argument. Exit status 2. */
export class ConfigError extends RtdError {
  constructor(message: string, opts: {code: string; suggestions?: string[]; cause?: unknown}) {
    super(message, {...opts, exitCode: 2})
  }
}

/** Something failed while doing the work (I/O, numerics, a missing file at run time). Exit status 1. */
export class RuntimeFailure extends RtdError {
  constructor(message: string, opts: {code: string; suggestions?: string[]; cause?: unknown}) {
    super(message, {...opts, exitCode: 1})
  }
}

/** The user interrupted (Ctrl-C); the run stopped at a safe point. Exit status 130. */
export class Interrupted extends RtdError {
  constructor(message = 'interrupted') {
    super(message, {code: 'interrupted', exitCode: 130})
  }
}
