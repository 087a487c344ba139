/**
 * Keeps <run-dir>/report.html current while `rtd run` goes on: rewritten after evaluation lines
 * and once when the run ends, so a long run can be watched in a browser. A run with no train or
 * eval lines (e.g. only a data stage) gets none.
 *
 * The write runs on a worker thread: the training loop only yields to microtasks between steps,
 * so work that needs I/O callbacks (loading vega, reading the run's files) would otherwise wait
 * until training ends. One write at a time; an update that arrives during a write starts one
 * more after it. A failure is logged once as a warning: the report never stops a run.
 *
 * A write costs ~5 CPU seconds (starting the worker, loading vega, rendering ~35 plots), taken
 * from a training loop that uses every core: so at most one write starts per `minIntervalMs`
 * (counted from the writer's creation, so a run shorter than that writes only at the end), and
 * an update that comes sooner waits for the next update() or tick() after the interval. flush()
 * stops a write in progress (its output would be replaced at once) instead of waiting for it.
 */
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import type {Logger} from '../util/run-io.js'
import {readMetrics} from './read-run.js'
import type {ReportJob} from './report-worker.js'

export const RUN_REPORT_FILE = 'report.html'

export interface RunReportWriter {
  /** Schedule a rewrite (returns at once): now, or once `minIntervalMs` has passed since the last one started. True when a write started now. */
  update(): boolean
  /** Start a rewrite that update() scheduled if its interval has now passed (cheap: call it on every metrics line). True when a write started now. */
  tick(): boolean
  /** Rewrite once more (in this thread) after any write in progress, and wait for it. */
  flush(): Promise<void>
}

/** The worker entry beside this file: the .js when built; under tsx the .ts through a bootstrap that registers tsx (Node 20 workers do not inherit loader hooks). */
function startWorker(job: ReportJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./report-worker.js', import.meta.url), {workerData: job})
  const entry = new URL('./report-worker.ts', import.meta.url).href
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`, {eval: true, workerData: job})
}

/** Default time between the starts of two writes during a run (~5 CPU s each: under 5% of a 2-core run). */
export const REPORT_INTERVAL_MS = 120_000

export function runReportWriter(p: {runDir: string; log: Logger; minIntervalMs?: number; now?: () => number}): RunReportWriter {
  const job: ReportJob = {runDir: p.runDir, output: path.join(p.runDir, RUN_REPORT_FILE)}
  const now = p.now ?? (() => Date.now())
  const minIntervalMs = p.minIntervalMs ?? REPORT_INTERVAL_MS
  let running: Promise<void> | undefined
  let worker: Worker | undefined
  let lastStart = now()
  /** An update not yet written. */
  let due = false
  let warned = false
  const warn = (message: string) => {
    if (!warned) p.log.warn(`could not write ${RUN_REPORT_FILE}: ${message}`)
    warned = true
  }
  const writeOnce = (): Promise<void> =>
    new Promise<void>((resolve) => {
      // nothing to plot yet (a run without training or evaluation lines): no report, and no worker started
      if (!readMetrics(p.runDir).some((r) => r.type === 'train' || r.type === 'eval')) {
        resolve()
        return
      }
      let w: Worker
      try {
        w = worker = startWorker(job)
      } catch (error) {
        warn((error as Error).message)
        resolve()
        return
      }
      w.on('message', (m: {ok?: true; error?: string}) => m.error && warn(m.error))
      w.on('error', (error) => warn(error.message))
      w.on('exit', () => {
        if (worker === w) worker = undefined
        resolve()
      })
    })
  const maybeStart = (): boolean => {
    if (!due || running || now() - lastStart < minIntervalMs) return false
    due = false
    lastStart = now()
    running = writeOnce().then(() => {
      running = undefined
      maybeStart()
    })
    return true
  }
  return {
    update() {
      due = true
      return maybeStart()
    },
    tick: maybeStart,
    async flush() {
      due = false
      // the write below replaces whatever a write in progress would produce (the file is written atomically)
      if (worker) await worker.terminate()
      while (running) await running
      // the run has ended: nothing else needs the main thread, and a worker's start-up (tsx, vega) is the larger cost
      if (!readMetrics(p.runDir).some((r) => r.type === 'train' || r.type === 'eval')) return
      try {
        const {writeReport} = await import('./build-report.js')
        await writeReport({runDirs: [p.runDir], output: job.output})
      } catch (error) {
        warn((error as Error).message)
      }
    },
  }
}
