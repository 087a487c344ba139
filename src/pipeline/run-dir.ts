/**
 * Run directories: `<output.dir>/<name>-<YYYYMMDD-HHMMSS>[-n]` (UTC), their status.json
 * (written atomically), and finding the newest run of a pipeline that can be resumed.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {ConfigError} from '../errors.js'
import {claimHolder, isOwnerAlive} from '../util/process-claim.js'
import {readStatus, writeStatus, type RunStatus} from '../util/run-status.js'

/** The O_EXCL claim file the process working in a run directory holds (util/process-claim.ts). */
export const RUN_CLAIM_FILE = 'claim.json'

// status.json lives in src/util so that readers of run directories (src/report) need not import the pipeline
export {RUN_STATES, readStatus, writeFileAtomic, writeStatus, type RunStateName, type RunStatus} from '../util/run-status.js'

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}

/** Create a fresh run directory (never reuses one: adds -1, -2... on a clash). */
export function createRunDir(params: {outputDir: string; name: string; now?: Date}): string {
  fs.mkdirSync(params.outputDir, {recursive: true})
  const base = path.join(params.outputDir, `${params.name}-${stamp(params.now ?? new Date())}`)
  for (let n = 0; ; n++) {
    const dir = n === 0 ? base : `${base}-${n}`
    try {
      fs.mkdirSync(dir)
      return dir
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

/**
 * Mark a run this process is running as interrupted, synchronously (the second Ctrl-C exits
 * at once: the stage in progress does not save, the last checkpoint is what a resume uses).
 */
export function markInterruptedNow(params: {runDir: string; message: string; now?: Date}): void {
  const status = readStatus(params.runDir)
  if (status === undefined || status.state !== 'running' || status.pid !== process.pid) return
  writeStatus(params.runDir, {...status, state: 'interrupted', ended: (params.now ?? new Date()).toISOString(), error: {code: 'interrupted', message: params.message}})
}

/** Interrupted, failed, or "running" with a dead process (killed hard; a reused pid does not count). */
export function isResumable(status: RunStatus | undefined, isAlive?: (pid: number) => boolean): boolean {
  if (status === undefined) return false
  if (status.state === 'interrupted' || status.state === 'failed') return true
  const alive = isAlive ?? ((pid: number) => isOwnerAlive({pid, startMs: status.pid_start_ms}))
  return status.state === 'running' && !alive(status.pid)
}

/** Run directories of pipeline `pipelineName` under `outputDir`, newest first. */
function runDirsNewestFirst(params: {outputDir: string; pipelineName: string}): string[] {
  if (!fs.existsSync(params.outputDir)) return []
  const escaped = params.pipelineName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`^${escaped}-(\\d{8}-\\d{6})(?:-(\\d+))?$`)
  return fs
    .readdirSync(params.outputDir)
    .map((d) => ({d, m: d.match(re)}))
    .filter((x) => x.m !== null)
    .sort((a, b) => (a.m![1] === b.m![1] ? Number(a.m![2] ?? 0) - Number(b.m![2] ?? 0) : a.m![1] < b.m![1] ? -1 : 1))
    .reverse()
    .map(({d}) => path.join(params.outputDir, d))
}

/** The newest resumable run directory of pipeline `pipelineName` under `outputDir`, if any. */
export function findResumableRun(params: {outputDir: string; pipelineName: string; isAlive?: (pid: number) => boolean}): string | undefined {
  return runDirsNewestFirst(params).find((dir) => isResumable(readStatus(dir), params.isAlive))
}

/**
 * The newest run of the pipeline when it was interrupted (Ctrl-C, or killed: `running` with a
 * dead process), which `rtd run` continues by default. A failed or completed newest run gives
 * undefined: a failure needs a look before it is retried, and a finished run starts anew.
 */
export function findInterruptedRun(params: {outputDir: string; pipelineName: string; isAlive?: (pid: number) => boolean}): string | undefined {
  const newest = runDirsNewestFirst(params)[0]
  if (newest === undefined) return undefined
  const status = readStatus(newest)
  if (status === undefined || status.state === 'failed' || status.state === 'completed') return undefined
  return isResumable(status, params.isAlive) ? newest : undefined
}

/**
 * The newest run of the pipeline when another live process works in it (it holds the run's
 * claim, or status.json says `running` for a pid that still runs), with that process.
 */
export function findLiveRun(params: {outputDir: string; pipelineName: string}): {runDir: string; pid: number; command?: string; since?: string; host?: string} | undefined {
  const newest = runDirsNewestFirst(params)[0]
  if (newest === undefined) return undefined
  const holder = claimHolder({dir: newest, file: RUN_CLAIM_FILE})
  if (holder !== undefined && !(holder.pid === process.pid && holder.host === os.hostname())) return {runDir: newest, ...holder}
  const status = readStatus(newest)
  if (status?.state === 'running' && status.pid !== process.pid && isOwnerAlive({pid: status.pid, startMs: status.pid_start_ms})) return {runDir: newest, pid: status.pid, since: status.started}
  return undefined
}

/** Check that `runDir` can be resumed; returns its status. Throws ConfigError (exit 2) otherwise. */
export function checkResumable(params: {runDir: string; isAlive?: (pid: number) => boolean}): RunStatus {
  const status = readStatus(params.runDir)
  if (status === undefined) {
    throw new ConfigError(`${params.runDir} is not a run directory (no readable status.json)`, {code: 'resume.not_a_run'})
  }
  if (status.state === 'completed') {
    throw new ConfigError(`run ${params.runDir} already completed; nothing to resume`, {code: 'resume.completed', suggestions: ['Start a new run without --resume.']})
  }
  if (!isResumable(status, params.isAlive)) {
    throw new ConfigError(`run ${params.runDir} is still running (pid ${status.pid})`, {code: 'resume.running', suggestions: ['Wait for it or stop it (Ctrl-C) first.']})
  }
  return status
}
