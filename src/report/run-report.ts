/**
 * Keeps <run-dir>/report.html current while `rtd run` goes on: rewritten after each evaluation
 * line and once when the run ends, so a long run can be watched in a browser. Writes are
 * chained (never two at once) and a failure is logged once as a warning: the report never
 * stops a run.
 */
import * as path from 'node:path'

import type {Logger} from '../plugin/run-context.js'

export const RUN_REPORT_FILE = 'report.html'

export interface RunReportWriter {
  /** Schedule a rewrite (returns at once). */
  update(): void
  /** Rewrite now and wait for every scheduled write. */
  flush(): Promise<void>
}

export function runReportWriter(p: {runDir: string; log: Logger}): RunReportWriter {
  let chain: Promise<void> = Promise.resolve()
  let warned = false
  let queued = false
  const write = async (): Promise<void> => {
    queued = false
    try {
      const {writeReport} = await import('./build-report.js')
      await writeReport({runDirs: [p.runDir], output: path.join(p.runDir, RUN_REPORT_FILE)})
    } catch (error) {
      if (!warned) p.log.warn(`could not write ${RUN_REPORT_FILE}: ${(error as Error).message}`)
      warned = true
    }
  }
  return {
    update() {
      if (queued) return // a write that has not started yet will see this line too
      queued = true
      chain = chain.then(write)
    },
    flush() {
      chain = chain.then(write)
      return chain
    },
  }
}
