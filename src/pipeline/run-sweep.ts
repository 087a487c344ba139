/**
 * Run a sweep: each variant in its own run directory `<sweep-dir>/<variant>/`, one after
 * another, then one comparison report (src/report) of all of them in `<sweep-dir>/report.html`.
 * The sweep directory is `<output.dir>/<name>-sweep-<stamp>`; running the pipeline again
 * reuses the newest one: a variant whose resolved pipeline already completed there is skipped,
 * an interrupted (or killed) one continues through the runner's resume, anything else starts in
 * a new directory (`<variant>-1`, ...). Data shards are shared through the cache as for any run.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse} from 'yaml'

import {writeReport} from '../report/build-report.js'
import type {LoadedVariant} from './expand-sweep.js'
import type {ResolvedPipeline} from './load-pipeline.js'
import {RtdError} from '../errors.js'
import {preflight} from './preflight.js'
import {createRunDir, isResumable, readStatus} from './run-dir.js'
import {preflightLog, resolvedPipelineYaml, runPipeline, type RunPipelineParams, type RunResult} from './runner.js'

export interface SweepVariantResult {
  variant: string
  runDir: string
  /** skipped: it had already completed with this resolved pipeline. */
  action: 'ran' | 'resumed' | 'skipped'
  metrics: Record<string, number>
}

export interface SweepResult {
  sweepDir: string
  variants: SweepVariantResult[]
  report?: string
}

export interface RunSweepParams extends Omit<RunPipelineParams, 'pipeline' | 'resumeDir' | 'runDir' | 'onStart'> {
  base: ResolvedPipeline
  /** Every variant valid (see sweepInvalid). */
  variants: LoadedVariant[]
  /** Use this sweep directory (default: the newest of this pipeline, or a new one). */
  sweepDir?: string
  /** Start a new sweep directory even when one exists. */
  fresh?: boolean
  /** Also continue variants that failed (default: a failed variant starts anew). */
  resumeFailed?: boolean
  onSweepDir?: (dir: string) => void
  onVariant?: (v: {variant: string; runDir: string; action: SweepVariantResult['action']}) => void
}

/** `<output.dir>/<name>-sweep-<stamp>` directories, newest first. */
export function sweepDirsNewestFirst(params: {outputDir: string; name: string}): string[] {
  if (!fs.existsSync(params.outputDir)) return []
  const prefix = `${params.name}-sweep-`
  return fs
    .readdirSync(params.outputDir)
    .map((d) => ({d, m: d.startsWith(prefix) ? d.slice(prefix.length).match(/^(\d{8}-\d{6})(?:-(\d+))?$/) : null}))
    .filter((x) => x.m !== null)
    .sort((a, b) => (a.m![1] === b.m![1] ? Number(b.m![2] ?? 0) - Number(a.m![2] ?? 0) : a.m![1] < b.m![1] ? 1 : -1))
    .map(({d}) => path.join(params.outputDir, d))
}

/** The resolved pipeline without output.dir (a variant's exports go into its own run directory). */
function comparable(value: unknown): string {
  const v = structuredClone(value) as {output?: {dir?: unknown}} | null
  if (v?.output !== undefined) delete v.output.dir
  return JSON.stringify(v)
}

function recordedPipeline(runDir: string): string | undefined {
  try {
    return comparable(parse(fs.readFileSync(path.join(runDir, 'resolved.yaml'), 'utf8')))
  } catch {
    return undefined
  }
}

/** What to do with a variant: skip or resume an earlier directory of the same resolved pipeline, or the new directory to run in. */
function plan(p: {sweepDir: string; variant: string; pipeline: ResolvedPipeline; resumeFailed: boolean}): {action: SweepVariantResult['action']; runDir: string} {
  const wanted = comparable(parse(resolvedPipelineYaml(p.pipeline)))
  const re = new RegExp(`^${p.variant.replace(/[.]/g, '\\.')}(?:-(\\d+))?$`)
  const dirs = fs
    .readdirSync(p.sweepDir)
    .map((d) => ({d, m: d.match(re)}))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(b.m![1] ?? 0) - Number(a.m![1] ?? 0)) // newest first
    .map(({d}) => path.join(p.sweepDir, d))
  for (const dir of dirs) {
    if (recordedPipeline(dir) !== wanted) continue
    const status = readStatus(dir)
    if (status?.state === 'completed') return {action: 'skipped', runDir: dir}
    if (isResumable(status) && (status!.state !== 'failed' || p.resumeFailed)) return {action: 'resumed', runDir: dir}
  }
  for (let n = 0; ; n++) {
    const dir = path.join(p.sweepDir, n === 0 ? p.variant : `${p.variant}-${n}`)
    if (!fs.existsSync(dir)) return {action: 'ran', runDir: dir}
  }
}

/**
 * Run every variant (stopping at the first that fails or is interrupted: its error is
 * rethrown after the report of what exists is written), then the comparison report.
 */
export async function runSweep(params: RunSweepParams): Promise<SweepResult> {
  const {base, variants, fresh, resumeFailed, onSweepDir, onVariant, ...runParams} = params
  const now = params.now ?? (() => new Date())
  const outputDir = path.resolve(base.value.output.dir)
  const existing = params.sweepDir !== undefined ? path.resolve(params.sweepDir) : (!fresh && sweepDirsNewestFirst({outputDir, name: base.value.name})[0]) || undefined
  // every variant that will run passes the pre-flight checks before anything is written: a
  // variant that cannot run (e.g. does not fit in memory) is refused before the first one starts
  for (const {variant, pipeline} of variants) {
    if (pipeline === undefined) throw new Error(`variant ${variant.name} is invalid`) // callers check sweepInvalid first
    if (existing !== undefined && fs.existsSync(existing) && plan({sweepDir: existing, variant: variant.name, pipeline, resumeFailed: resumeFailed ?? false}).action === 'skipped') continue
    try {
      await preflight({pipeline, log: preflightLog(runParams)})
    } catch (error) {
      if (!(error instanceof RtdError)) throw error
      throw new RtdError(`sweep variant ${variant.name}: ${error.message}`, {code: error.code, exitCode: error.exitCode, suggestions: error.suggestions, cause: error})
    }
  }
  const sweepDir = existing ?? createRunDir({outputDir, name: `${base.value.name}-sweep`, now: now()}) // <name>-sweep-<stamp>[-n]
  fs.mkdirSync(sweepDir, {recursive: true})
  onSweepDir?.(sweepDir)
  const results: SweepVariantResult[] = []
  let failure: unknown
  for (const {variant, pipeline} of variants) {
    if (pipeline === undefined) throw new Error(`variant ${variant.name} is invalid`) // callers check sweepInvalid first
    const {action, runDir} = plan({sweepDir, variant: variant.name, pipeline, resumeFailed: resumeFailed ?? false})
    onVariant?.({variant: variant.name, runDir, action})
    if (action === 'skipped') {
      results.push({variant: variant.name, runDir, action, metrics: readStatus(runDir)?.metrics ?? {}})
      continue
    }
    // exports of a variant go into its own run directory, not over the other variants' in output.dir
    pipeline.value.output.dir = runDir
    let result: RunResult
    try {
      result = await runPipeline({...runParams, pipeline, preflighted: true, ...(action === 'resumed' ? {resumeDir: runDir} : {runDir})})
    } catch (error) {
      failure = error
      break
    }
    results.push({variant: variant.name, runDir, action, metrics: result.metrics})
  }
  const runDirs = results.map((r) => r.runDir)
  const failedDir = (failure as {runDir?: string} | undefined)?.runDir
  if (failedDir !== undefined) runDirs.push(failedDir)
  let report: string | undefined
  if (runDirs.length > 0) {
    try {
      report = (await writeReport({runDirs, output: path.join(sweepDir, 'report.html'), plotFiles: true})).output
    } catch (error) {
      if (failure === undefined) throw error
    }
  }
  if (failure !== undefined) throw failure
  return {sweepDir, variants: results, report}
}
