/**
 * The base of every rtd command. It gives `--json` (the value `run()` returns is printed as
 * JSON; errors as {error: {code, message, suggestions}}) and `--verbose`, and it maps errors
 * to exit codes in ONE place: RtdError.exitCode (2 invalid pipeline or usage, 1 runtime
 * failure, 130 after Ctrl-C).
 *
 * A new command:
 *
 *   export default class Bench extends RtdCommand<BenchResult> {
 *     static override summary = 'Time the training step.'
 *     static override description = '...'
 *     static override examples = ['<%= config.bin %> bench pipelines/tiny-gdes.yaml']
 *     static override args = {pipeline: Args.string({required: true, description: '...'})}
 *     static override flags = {steps: Flags.integer({default: 10, summary: '...'})}
 *     async run(): Promise<BenchResult> {
 *       const {args, flags} = await this.parse(Bench)
 *       const result = await bench({...})      // logic lives in src/
 *       this.log(`...`)                         // human output; silent under --json
 *       return result                           // printed as JSON under --json
 *     }
 *   }
 *
 * Put it in src/commands/<name>.ts (or src/commands/<topic>/<name>.ts for `rtd data build`)
 * and rebuild (`npm run build` regenerates oclif.manifest.json). Throw RtdError subclasses
 * from src/errors.ts; never call process.exit.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

import type {RtdError} from '../errors.js'
import {errorJson, formatError, toRtdError} from './to-rtd-error.js'

export abstract class RtdCommand<T> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({char: 'v', summary: 'Print debug lines and stack traces.', helpGroup: 'GLOBAL'}),
  }

  abstract override run(): Promise<T>

  /** True with --verbose or DEBUG=rtd*. */
  protected get verbose(): boolean {
    return this.argv.includes('--verbose') || this.argv.includes('-v') || /(^|,)rtd/.test(process.env.DEBUG ?? '')
  }

  /** A line for the user on stderr (progress, notices); silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected override toErrorJson(err: unknown): {error: Record<string, unknown>} {
    return errorJson(toRtdError(err))
  }

  /** The one place errors become output and an exit status. */
  protected override async catch(err: Interfaces.CommandError): Promise<void> {
    const e: RtdError = toRtdError(err)
    if (this.jsonEnabled()) this.logJson(errorJson(e))
    else process.stderr.write(`${formatError(e, this.verbose)}\n`)
    // ExitError is not printed again by oclif's handler; it only sets the status.
    throw new Errors.ExitError(e.exitCode)
  }
}
