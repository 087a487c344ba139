/** Worker thread entry of run-report.ts: writes one report (workerData: ReportJob) and posts {ok} or {error}. */
import {parentPort, workerData} from 'node:worker_threads'

import {writeReport} from './build-report.js'

export interface ReportJob {
  runDir: string
  output: string
}

const job = workerData as ReportJob
try {
  await writeReport({runDirs: [job.runDir], output: job.output})
  parentPort?.postMessage({ok: true})
} catch (error) {
  parentPort?.postMessage({error: (error as Error).message ?? String(error)})
}
