import {ConfigError, RtdError, RuntimeFailure} from '../errors.js'

/**
 * Every error the CLI can see, as an RtdError: ours as they are, oclif's usage errors
 * (unknown flag, missing argument: they carry `oclif.exit` = 2) as ConfigError, anything
 * else as an internal RuntimeFailure (exit 1). The exit status is then `exitCode`.
 */
export function toRtdError(error: unknown): RtdError {
  if (error instanceof RtdError) return error
  const e = error as {message?: string; oclif?: {exit?: number}; code?: string; suggestions?: string[]}
  const message = e?.message ?? String(error)
  if (typeof e?.oclif?.exit === 'number' && e.oclif.exit === 2) {
    return new ConfigError(message, {code: 'usage', suggestions: e.suggestions ?? ['See `rtd <command> --help`.'], cause: error})
  }
  return new RuntimeFailure(message, {code: 'internal', suggestions: ['Run with --verbose (or DEBUG=rtd*) for the stack trace.'], cause: error})
}

/** The `--json` error shape: {error: {code, message, suggestions, exitCode, issues?, runDir?}}. */
export function errorJson(error: RtdError): {error: Record<string, unknown>} {
  const {issues, runDir} = error as {issues?: unknown; runDir?: unknown}
  return {
    error: {
      code: error.code,
      message: error.message,
      suggestions: error.suggestions,
      exitCode: error.exitCode,
      ...(issues === undefined ? {} : {issues}),
      ...(typeof runDir === 'string' ? {runDir} : {}),
    },
  }
}

/** Human-readable form for stderr. */
export function formatError(error: RtdError, verbose = false): string {
  const lines = [`Error (${error.code}): ${error.message}`]
  for (const s of error.suggestions) lines.push(`  hint: ${s}`)
  if (verbose && error.stack) {
    lines.push(error.stack)
    let cause = error.cause
    while (cause instanceof Error) {
      lines.push(`Caused by: ${cause.stack ?? cause.message}`)
      cause = cause.cause
    }
  }
  return lines.join('\n')
}
