import * as fs from 'node:fs'
import * as path from 'node:path'

import {isTempWriterAlive} from '../util/process-claim.js'

/**
 * Crash-safe cache entries: a build writes `<dir>/<key>.tmp-<pid>` and renames it to
 * `<dir>/<key>` only when complete, so a directory named `<key>` is always whole. Leftover
 * temporaries are never read; those whose process is gone (see process-claim.ts) are deleted.
 */
export function tmpPathFor(finalDir: string): string {
  return `${finalDir}.tmp-${process.pid}`
}

export function removeStaleTmpDirs(params: {dir: string}): string[] {
  if (!fs.existsSync(params.dir)) return []
  const removed: string[] = []
  for (const name of fs.readdirSync(params.dir)) {
    const m = /\.tmp-(\d+)$/.exec(name)
    if (!m) continue
    const pid = Number(m[1])
    // ours (a build in this process) or another live process's: being written, leave it
    if (isTempWriterAlive({pid, file: path.join(params.dir, name)})) continue
    fs.rmSync(path.join(params.dir, name), {recursive: true, force: true})
    removed.push(name)
  }
  return removed
}

/** Move a finished temporary into place. If another process finished the same key first, keep theirs. */
export function commitTmpDir(params: {tmp: string; final: string}): void {
  try {
    fs.renameSync(params.tmp, params.final)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && fs.existsSync(params.final)) {
      fs.rmSync(params.tmp, {recursive: true, force: true})
      return
    }
    throw error
  }
}
