/**
 * Run a resolved pipeline: run the pre-flight checks (preflight.ts), make (or reuse, on resume)
 * the run directory, record what is being run, create every stage, then run them in STAGE_KINDS
 * order (data -> model -> evaluation), then the export stage, then the finetune list (which
 * starts from the export), with one RunState. Ctrl-C
 * (the `signal`) lets the stage in progress save and stop; the run then ends Interrupted.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {parse, stringify} from 'yaml'

import {ConfigError, Interrupted, RtdError, RuntimeFailure} from '../errors.js'
import {createExportStage} from '../export/export-stage.js'
import {STAGE_KINDS, stageEntries, type RunState, type Stage, type StageKind} from '../plugin/contract.js'
import type {RunContext} from '../plugin/run-context.js'
import {environmentRecord} from './environment-record.js'
import type {ResolvedPipeline} from './load-pipeline.js'
import {orderPipeline} from './order-pipeline.js'
import {preflight} from './preflight.js'
import {displayPath} from './resolve-extends.js'
import {checkResumable, createRunDir, RUN_CLAIM_FILE, writeStatus, type RunStatus} from './run-dir.js'
import {claimDir, currentOwner, type DirClaim} from '../util/process-claim.js'
import {createMetricsSink, createProgress, createRunLogger, type ConsoleSink} from './run-log.js'
import {runReportWriter} from '../report/run-report.js'

/** The stages a run goes through: the pipeline's, then rtd's export. */
type RunStageKind = StageKind | 'export'

export interface RunPipelineParams {
  pipeline: ResolvedPipeline
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal
  /** Continue this earlier run (its directory is reused; logs and metrics are appended). */
  resumeDir?: string
  /** Run in exactly this new directory instead of <output.dir>/<name>-<stamp> (a sweep's variants); it must not exist. */
  runDir?: string
  /** Recorded in environment.json; default process.argv. */
  argv?: string[]
  /** Echo debug lines to the console too. */
  verbose?: boolean
  /** Human-readable output; none when omitted (the run log is always written). */
  console?: ConsoleSink
  /** Called once the run directory exists, before any stage runs. */
  onStart?: (runDir: string) => void
  /** Default RTD_CACHE or ~/.cache/rtd. */
  cacheDir?: string
  /** Injected clock (tests). */
  now?: () => Date
  /** The caller already ran the pre-flight checks for this pipeline (a sweep checks every variant first). */
  preflighted?: boolean
}

export interface RunResult {
  runDir: string
  state: 'completed'
  resumed: boolean
  metrics: Record<string, number>
  outputs: Record<string, string>
}

export async function runPipeline(params: RunPipelineParams): Promise<RunResult> {
  const {pipeline} = params
  const p = pipeline.value
  const now = params.now ?? (() => new Date())
  const signal = params.signal ?? new AbortController().signal
  const resumed = params.resumeDir !== undefined
  // what can fail before work starts fails here, before the run directory exists (exit 2)
  if (!params.preflighted) await preflight({pipeline, log: preflightLog(params)})
  // A resume claims the directory first (O_EXCL, see process-claim.ts): of two `rtd run`s that
  // found the same interrupted run, one continues it and the other is told which process has it.
  if (resumed && !fs.existsSync(params.resumeDir!)) checkResumable({runDir: params.resumeDir!}) // says what is wrong
  const claim = resumed ? claimRunDir(path.resolve(params.resumeDir!)) : undefined
  let previous: RunStatus | undefined
  try {
    previous = resumed ? checkResumable({runDir: params.resumeDir!}) : undefined
    if (resumed) checkSamePipeline({runDir: params.resumeDir!, name: p.name})
  } catch (error) {
    claim?.release()
    throw error
  }
  const runDir = resumed ? path.resolve(params.resumeDir!) : params.runDir !== undefined ? createExactRunDir(path.resolve(params.runDir)) : createRunDir({outputDir: path.resolve(p.output.dir), name: p.name, now: now()})
  // A fresh directory is ours (mkdir is exclusive); the claim tells a later resume it is in use.
  const runClaim = claim ?? claimRunDir(runDir)
  try {
    return await runInDir({...params, runDir, resumed, previous, now, signal})
  } finally {
    runClaim.release()
  }
}

/** Pre-flight notes go to the console with --verbose (there is no run log yet). */
export function preflightLog(params: {verbose?: boolean; console?: ConsoleSink}): ((msg: string) => void) | undefined {
  return params.verbose && params.console ? (m) => params.console!.line(m) : undefined
}

function createExactRunDir(dir: string): string {
  fs.mkdirSync(path.dirname(dir), {recursive: true})
  fs.mkdirSync(dir) // exclusive: never runs into someone else's directory
  return dir
}

/** resolved.yaml's body: the resolved pipeline in schema order (a sweep compares it to skip finished variants). */
export function resolvedPipelineYaml(pipeline: ResolvedPipeline): string {
  return stringify(orderPipeline({value: pipeline.value, registry: pipeline.registry}))
}

function claimRunDir(runDir: string): DirClaim {
  return claimDir({dir: runDir, what: `run ${displayPath(runDir, process.cwd())}`, file: RUN_CLAIM_FILE})
}

async function runInDir(params: RunPipelineParams & {runDir: string; resumed: boolean; previous: RunStatus | undefined; now: () => Date; signal: AbortSignal}): Promise<RunResult> {
  const {pipeline, runDir, resumed, previous, now, signal} = params
  const p = pipeline.value
  if (!resumed) writeRecords({runDir, pipeline, argv: params.argv ?? process.argv})
  const owner = currentOwner()
  const status: RunStatus = {
    state: 'running',
    pid: process.pid,
    ...(owner.startMs === undefined ? {} : {pid_start_ms: owner.startMs}),
    started: previous?.started ?? now().toISOString(),
    ...(resumed ? {resumed: [...(previous?.resumed ?? []), now().toISOString()]} : {}),
  }
  writeStatus(runDir, status)

  const log = createRunLogger({runDir, console: params.console, verbose: params.verbose, now})
  params.onStart?.(runDir)
  log.info(`${resumed ? 'resuming' : 'run'} ${p.name} in ${runDir}`)
  if (resumed && pipeline.overrides.length > 0) log.info(`overrides for this resume: ${pipeline.overrides.join(' ')}`)

  const pipelineDir = path.dirname(pipeline.file)
  const sink = createMetricsSink({runDir, now})
  const report = runReportWriter({runDir, log})
  const ctx: RunContext = {
    pipeline: p,
    pipelineFile: pipeline.file,
    runDir,
    cacheDir: params.cacheDir ?? process.env.RTD_CACHE ?? path.join(os.homedir(), '.cache', 'rtd'),
    seed: p.seed,
    log,
    metrics: {
      write(record) {
        sink.write(record)
        // report.html follows the evaluations (at most one write per REPORT_INTERVAL_MS while the run goes on)
        if (record.type === 'eval') report.update()
        else report.tick()
      },
    },
    signal,
    ...(resumed ? {resumeDir: runDir} : {}),
    resolvePath: (x: string) => path.resolve(pipelineDir, x),
    progress: (o) => createProgress({...o, tty: params.console?.tty, log}),
    architecture: (name) => pipeline.registry.architecture(name),
    architectureForModelType: (modelType) => pipeline.registry.architectureForModelType(modelType),
  }

  const state: RunState = {}
  let current: RunStageKind | undefined
  let currentPlugin: string | undefined
  try {
    const stages: {kind: RunStageKind; name: string; stage: Stage}[] = []
    const create = async (kind: StageKind) => {
      for (const entry of stageEntries(p, kind)) {
        current = kind
        const {plugin: name, ...options} = entry.stage
        currentPlugin = name as string
        const plugin = pipeline.registry.get(kind, name as string)!
        stages.push({kind, name: name as string, stage: await plugin.create(options, ctx)})
      }
    }
    for (const kind of STAGE_KINDS) if (kind !== 'finetune') await create(kind)
    // the export stage is rtd's own: it runs whenever a model stage handed over a model
    if (p.model !== undefined) stages.push({kind: 'export', name: 'export', stage: createExportStage(ctx)})
    await create('finetune') // fine-tunes start from what the export wrote
    const evaluation = stages.find((s) => s.kind === 'evaluation')?.stage
    if (evaluation?.evaluate) state.evaluate = evaluation.evaluate.bind(evaluation)
    for (const s of stages) {
      if (signal.aborted) throw new Interrupted()
      current = s.kind
      currentPlugin = s.name
      log.debug(`${s.kind} stage (${s.name}) starting`)
      await s.stage.run(state)
    }
    if (signal.aborted) throw new Interrupted()
  } catch (error) {
    const failure = classify({error, aborted: signal.aborted, stage: current, plugin: current === 'export' ? 'built-in' : currentPlugin, runDir, pipeline})
    const interrupted = failure instanceof Interrupted
    log[interrupted ? 'info' : 'warn'](interrupted ? `interrupted during the ${current ?? ''} stage; run directory kept` : failure.message)
    if (error instanceof Error && error.stack) log.debug(error.stack)
    writeStatus(runDir, {...status, state: interrupted ? 'interrupted' : 'failed', ended: now().toISOString(), error: {code: failure.code, message: failure.message}})
    await report.flush()
    throw failure
  }
  const metrics = state.metrics ?? {}
  writeStatus(runDir, {...status, state: 'completed', ended: now().toISOString(), metrics})
  await report.flush()
  log.info(`completed ${p.name}; run directory ${runDir}`)
  return {runDir, state: 'completed', resumed, metrics, outputs: state.outputs ?? {}}
}

/**
 * Interrupted when the signal fired (whatever the stage threw), else an RtdError naming the
 * stage. The error gets a `runDir` property (shown by --json).
 */
function classify(p: {error: unknown; aborted: boolean; stage?: RunStageKind; plugin?: string; runDir: string; pipeline: ResolvedPipeline}): RtdError {
  const rel = displayPath(p.runDir, process.cwd())
  if (p.aborted || p.error instanceof Interrupted) {
    const e = new Interrupted(`interrupted; the run directory ${rel} was kept`)
    e.suggestions.push(`Resume with: rtd run ${displayPath(p.pipeline.file, process.cwd())} --resume ${rel}`)
    return Object.assign(e, {runDir: p.runDir})
  }
  if (p.error instanceof RtdError) return Object.assign(p.error, {runDir: p.runDir})
  const where = p.stage === undefined ? 'the run' : `the ${p.stage} stage (${p.plugin})`
  const message = p.error instanceof Error ? p.error.message : String(p.error)
  const failure = new RuntimeFailure(`${where} failed: ${message}`, {
    code: 'stage.failed',
    cause: p.error,
    suggestions: [`See ${path.join(rel, 'run.log')}; run with --verbose for the stack trace.`],
  })
  return Object.assign(failure, {runDir: p.runDir})
}

/** A run directory is only resumed by the pipeline that started it (same `name`). */
function checkSamePipeline(p: {runDir: string; name: string}): void {
  let name: unknown
  try {
    name = (parse(fs.readFileSync(path.join(p.runDir, 'resolved.yaml'), 'utf8')) as {name?: unknown})?.name
  } catch {
    return // an older or partial run directory: nothing to compare
  }
  if (name !== p.name) {
    throw new ConfigError(`run ${p.runDir} belongs to pipeline \`${String(name)}\`, not \`${p.name}\``, {
      code: 'resume.mismatch',
      suggestions: ['Resume with the pipeline that started the run, or start a new run without --resume.'],
    })
  }
}

/** pipeline.yaml (as written), its extends bases, resolved.yaml, overrides.json, environment.json. */
function writeRecords(p: {runDir: string; pipeline: ResolvedPipeline; argv: string[]}): void {
  const [top, ...bases] = p.pipeline.sources
  fs.writeFileSync(path.join(p.runDir, 'pipeline.yaml'), top.text)
  if (bases.length > 0) {
    const dir = path.join(p.runDir, 'extends')
    fs.mkdirSync(dir)
    for (const [i, b] of bases.entries()) fs.writeFileSync(path.join(dir, `${i + 1}-${path.basename(b.file)}`), `# copy of ${b.file}\n${b.text}`)
  }
  fs.writeFileSync(path.join(p.runDir, 'resolved.yaml'), `# ${p.pipeline.file} resolved: extends merged, overrides applied, defaults filled in\n${resolvedPipelineYaml(p.pipeline)}`)
  fs.writeFileSync(path.join(p.runDir, 'overrides.json'), `${JSON.stringify(p.pipeline.overrides, null, 2)}\n`)
  // the external plugin modules, so that `rtd export` can rebuild models of external plugins
  fs.writeFileSync(path.join(p.runDir, 'plugins.json'), `${JSON.stringify({modules: p.pipeline.registry.moduleFiles()}, null, 2)}\n`)
  const env = environmentRecord({pipelineFile: p.pipeline.file, backend: String(p.pipeline.value.runtime?.backend ?? 'auto'), argv: p.argv})
  fs.writeFileSync(path.join(p.runDir, 'environment.json'), `${JSON.stringify(env, null, 2)}\n`)
}
