/**
 * `rtd report --watch`: write the report, then write it again whenever a run's metrics.jsonl or
 * samples.json changes (polled: size and mtime, which fs.watch does not report reliably on every
 * file system). It ends by itself once no watched run is `running` any more (after a last
 * write), when `signal` aborts, or after `maxUpdates` writes.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {readStatus} from '../util/run-status.js'
import {writeReport, type ReportOptions, type WriteReportResult} from './build-report.js'
import {SAMPLES_FILE} from './read-run.js'

export interface WatchReportOptions extends ReportOptions {
  output: string
  plotFiles?: boolean
  /** Poll interval. Default 2000 ms. */
  intervalMs?: number
  signal?: AbortSignal
  /** Stop after this many writes (the first included). Default: unbounded. */
  maxUpdates?: number
  /** Called after each write. */
  onWrite?: (result: WriteReportResult, writes: number) => void
}

/** What the report reads that changes while a run goes on. */
function fingerprint(runDirs: string[]): string {
  const parts: string[] = []
  for (const d of runDirs) {
    for (const f of ['metrics.jsonl', SAMPLES_FILE, 'status.json']) {
      try {
        const s = fs.statSync(path.join(d, f))
        parts.push(`${s.size}:${s.mtimeMs}`)
      } catch {
        parts.push('-')
      }
    }
  }
  return parts.join('|')
}

const anyRunning = (runDirs: string[]): boolean => runDirs.some((d) => readStatus(d)?.state === 'running')

/** Returns the number of writes. */
export async function watchReport(opts: WatchReportOptions): Promise<number> {
  const interval = opts.intervalMs ?? 2000
  const max = opts.maxUpdates ?? Infinity
  let writes = 0
  let seen = ''
  for (;;) {
    const now = fingerprint(opts.runDirs)
    if (now !== seen) {
      seen = now
      const result = await writeReport(opts)
      writes++
      opts.onWrite?.(result, writes)
      if (writes >= max) return writes
    }
    if (opts.signal?.aborted || !anyRunning(opts.runDirs)) {
      // a last look: the run may have written its final lines just before it ended
      if (fingerprint(opts.runDirs) !== seen) {
        const result = await writeReport(opts)
        writes++
        opts.onWrite?.(result, writes)
      }
      return writes
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, interval)
      opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), {once: true})
    })
  }
}
