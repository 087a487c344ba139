import {Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {installInterruptHandler} from '../cli/interrupt.js'
import {pipelineArgs, splitPipelineArgv} from '../cli/pipeline-args.js'
import {ConfigError} from '../errors.js'
import {loadSweep, sweepInvalid} from '../pipeline/expand-sweep.js'
import {displayPath} from '../pipeline/resolve-extends.js'
import {findInterruptedRun, findLiveRun, findResumableRun, markInterruptedNow} from '../pipeline/run-dir.js'
import {runPipeline, type RunResult} from '../pipeline/runner.js'
import {runSweep, type SweepResult} from '../pipeline/run-sweep.js'
import * as os from 'node:os'
import * as path from 'node:path'

export default class Run extends RtdCommand<RunResult | SweepResult> {
  static override summary = 'Run a pipeline.'

  static override description = `Validates the pipeline and runs the pre-flight checks (the backend can start; the hub repositories the stages read are accessible, or cached when offline; the training step fits in memory, as \`rtd plan\` estimates it, with runtime.workers' replicas): nothing is written when one fails. Then creates a run directory <output.dir>/<name>-<YYYYMMDD-HHMMSS> and runs the stages (data, model, evaluation) in order. The run directory holds pipeline.yaml, resolved.yaml, overrides.json, environment.json, run.log, metrics.jsonl and status.json.

Ctrl-C stops at the next safe point (the stage in progress saves) and exits with 130; a second Ctrl-C exits at once. Running the same pipeline again continues its newest run when that run was interrupted or killed, and refuses (exit 2, naming the process) while that run is still going (--fresh starts a new one in both cases); --resume <run-dir> or --auto-resume also continue failed runs.

A pipeline with a \`sweep:\` section runs the pre-flight checks for every variant first (a refusal names the variant), then runs each variant in <output.dir>/<name>-sweep-<stamp>/<variant>/ and writes one comparison report.html there. Running it again reuses the newest sweep directory: variants that completed with the same resolved pipeline are skipped, interrupted ones continue (--auto-resume: failed ones too), --fresh starts a new sweep directory, --resume <sweep-dir> picks one.

Exit status: 0 done, 1 runtime failure, 2 invalid pipeline or usage, 130 interrupted.`

  static override examples = [
    '<%= config.bin %> run pipelines/tiny-gdes.yaml',
    '<%= config.bin %> run pipelines/tiny-gdes.yaml schedule.max_steps=100 loss.lambda=10',
    '<%= config.bin %> run pipelines/tiny-gdes.yaml ~evaluation output.dir=/tmp/runs --json',
    '<%= config.bin %> run pipelines/tiny-gdes.yaml --resume runs/tiny-gdes-20250101-120000',
    '<%= config.bin %> run pipelines/ablation-tiny.yaml schedule.max_steps=50',
  ]

  static override strict = false

  static override args = pipelineArgs

  static override flags = {
    resume: Flags.string({summary: 'Continue this interrupted or failed run directory (`latest`: the newest resumable run of this pipeline).', exclusive: ['auto-resume', 'fresh']}),
    fresh: Flags.boolean({summary: 'Start a new run even when the newest run of this pipeline was interrupted.', exclusive: ['auto-resume']}),
    'auto-resume': Flags.boolean({summary: 'Continue the newest interrupted or failed run of this pipeline, if there is one.'}),
  }

  async run(): Promise<RunResult | SweepResult> {
    const {argv, flags} = await this.parse(Run)
    const {pipeline: file, overrides} = splitPipelineArgv(argv)
    const {base: pipeline, variants} = await loadSweep({file, overrides})
    if (variants !== undefined) {
      const invalid = sweepInvalid({file: displayPath(pipeline.file, process.cwd()), variants})
      if (invalid !== undefined) throw invalid
      return this.runSweep({pipeline, variants, flags})
    }
    let resumeDir = flags.resume === undefined || flags.resume === 'latest' ? undefined : flags.resume
    if (flags['auto-resume'] || flags.resume === 'latest') {
      resumeDir = findResumableRun({outputDir: path.resolve(pipeline.value.output.dir), pipelineName: pipeline.value.name})
      if (resumeDir === undefined && flags.resume === 'latest') {
        throw new ConfigError(`no interrupted or failed run of ${pipeline.value.name} under ${pipeline.value.output.dir}`, {code: 'resume.none'})
      }
    }
    if (resumeDir === undefined && flags.resume === undefined && !flags['auto-resume'] && !flags.fresh) {
      // a plain run never starts silently beside a live run of the same pipeline
      const live = findLiveRun({outputDir: path.resolve(pipeline.value.output.dir), pipelineName: pipeline.value.name})
      if (live !== undefined) {
        const who = `process ${live.pid}${live.host !== undefined && live.host !== os.hostname() ? ` on host ${live.host}` : ''}${live.command ? ` (\`${live.command}\`${live.since ? `, since ${live.since}` : ''})` : ''}`
        throw new ConfigError(`the newest run of ${pipeline.value.name}, ${displayPath(live.runDir, process.cwd())}, is running in ${who}`, {
          code: 'run.live',
          suggestions: [`Start a new run beside it with: rtd run ${displayPath(pipeline.file, process.cwd())} --fresh`, `Or wait for process ${live.pid} to finish, or stop it (Ctrl-C) and run again to continue it.`],
        })
      }
      resumeDir = findInterruptedRun({outputDir: path.resolve(pipeline.value.output.dir), pipelineName: pipeline.value.name})
      if (resumeDir !== undefined) this.logToStderr(`continuing the interrupted run ${resumeDir} (--fresh starts a new run)`)
    }
    let runDir: string | undefined
    const interrupt = interruptMarking(() => runDir)
    try {
      const result = await runPipeline({
        pipeline,
        signal: interrupt.signal,
        resumeDir,
        verbose: this.verbose,
        console: this.jsonEnabled() ? undefined : {line: (t) => process.stderr.write(`${t}\n`), tty: process.stderr},
        onStart: (dir) => {
          runDir = dir
          this.log(`run directory: ${dir}`)
        },
      })
      const m = Object.entries(result.metrics).map(([k, v]) => `${k}=${v}`)
      this.log(`done${m.length > 0 ? `: ${m.join(' ')}` : ''}`)
      return result
    } finally {
      interrupt.dispose()
    }
  }

  private async runSweep(p: {pipeline: Awaited<ReturnType<typeof loadSweep>>['base']; variants: NonNullable<Awaited<ReturnType<typeof loadSweep>>['variants']>; flags: {resume?: string; fresh?: boolean; 'auto-resume'?: boolean}}): Promise<SweepResult> {
    if (p.flags.resume === 'latest') throw new ConfigError('--resume latest is for single runs; a sweep continues its newest sweep directory by default', {code: 'resume.sweep'})
    let runDir: string | undefined
    const interrupt = interruptMarking(() => runDir)
    try {
      const result = await runSweep({
        base: p.pipeline,
        variants: p.variants,
        sweepDir: p.flags.resume,
        fresh: p.flags.fresh,
        resumeFailed: p.flags['auto-resume'],
        signal: interrupt.signal,
        verbose: this.verbose,
        console: this.jsonEnabled() ? undefined : {line: (t) => process.stderr.write(`${t}\n`), tty: process.stderr},
        onSweepDir: (dir) => this.log(`sweep directory: ${dir} (${p.variants.length} variants)`),
        onVariant: (v) => {
          runDir = v.action === 'skipped' ? undefined : v.runDir
          const what = {ran: 'running', resumed: 'continuing', skipped: 'already completed, skipped:'}[v.action]
          this.log(`variant ${v.variant}: ${what} ${v.runDir}`)
        },
      })
      for (const v of result.variants) {
        const m = Object.entries(v.metrics).map(([k, x]) => `${k}=${x}`)
        this.log(`${v.variant}${m.length > 0 ? `: ${m.join(' ')}` : ''}`)
      }
      if (result.report !== undefined) this.log(`comparison report: ${result.report}`)
      return result
    } finally {
      interrupt.dispose()
    }
  }
}

/** Ctrl-C handling for a run or a sweep: a second Ctrl-C marks the run directory in progress (if any) interrupted before exiting. */
function interruptMarking(currentRunDir: () => string | undefined): ReturnType<typeof installInterruptHandler> {
  return installInterruptHandler({
    notify: (m) => process.stderr.write(`\n${m}\n`),
    beforeExit: () => {
      const runDir = currentRunDir()
      if (runDir !== undefined) markInterruptedNow({runDir, message: 'second Ctrl-C: exited at once; the stage in progress did not save'})
    },
  })
}
