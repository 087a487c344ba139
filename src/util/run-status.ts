/**
 * A run directory's status.json (what state the run is in, which process owns it) and the
 * atomic write it uses. Below src/pipeline (which creates and resumes run directories) so that
 * readers of a run directory, such as src/report, depend on this file only.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

export const RUN_STATES = ['running', 'completed', 'failed', 'interrupted'] as const
export type RunStateName = (typeof RUN_STATES)[number]

export interface RunStatus {
  state: RunStateName
  pid: number
  /** Start time of `pid` (ms since the epoch, from /proc), so a reused pid is not taken for the run. */
  pid_start_ms?: number
  started: string
  ended?: string
  /** When the run was resumed, each time. */
  resumed?: string[]
  error?: {code: string; message: string}
  metrics?: Record<string, number>
}

/** Write a file so readers never see it half-written: temp file, then rename. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

export function writeStatus(runDir: string, status: RunStatus): void {
  writeFileAtomic(path.join(runDir, 'status.json'), `${JSON.stringify(status, null, 2)}\n`)
}

export function readStatus(runDir: string): RunStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as RunStatus
  } catch {
    return undefined
  }
}
