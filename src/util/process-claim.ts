/**
 * Which process owns something on disk, and whether it is still alive: the one helper the run
 * directory (its claim), the checkpoint store and the data cache (their temporaries) use.
 *
 * A pid alone is fooled by pid reuse (a long-dead run's pid now belongs to an unrelated
 * process), so an owner is a pid plus its start time from /proc (`startMs`, ms since the epoch:
 * boot time from /proc/stat + the start tick from /proc/<pid>/stat). A temporary named only by
 * pid is judged against its own mtime instead: a process that started after the file was last
 * written cannot be its writer. Where /proc is missing (macOS) the pid check is all there is.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {ConfigError} from '../errors.js'

// Linux reports /proc times in USER_HZ, fixed at 100 for user space on every architecture.
const TICKS_PER_SECOND = 100

let bootMs: number | null | undefined
function bootTimeMs(): number | undefined {
  if (bootMs === undefined) {
    try {
      const m = fs.readFileSync('/proc/stat', 'utf8').match(/^btime (\d+)$/m)
      bootMs = m ? Number(m[1]) * 1000 : null
    } catch {
      bootMs = null
    }
  }
  return bootMs ?? undefined
}

/** When process `pid` started (ms since the epoch), or undefined when it is gone or /proc is not there. */
export function processStartMs(pid: number): number | undefined {
  const boot = bootTimeMs()
  if (boot === undefined) return undefined
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after `(comm)`, which may itself hold spaces and parentheses; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    return Number.isFinite(ticks) ? boot + (ticks * 1000) / TICKS_PER_SECOND : undefined
  } catch {
    return undefined
  }
}

export interface ProcessOwner {
  pid: number
  /** processStartMs(pid) when the owner was recorded; absent in records from older versions. */
  startMs?: number
}

export function currentOwner(): ProcessOwner {
  const startMs = processStartMs(process.pid)
  return startMs === undefined ? {pid: process.pid} : {pid: process.pid, startMs}
}

/**
 * Whether the owner still runs. `writtenAtMs` (a file's mtime) stands in for an unknown start
 * time: the writer was running then, so a process with its pid that started later is not it.
 */
export function isOwnerAlive(owner: ProcessOwner & {writtenAtMs?: number}): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const actual = processStartMs(owner.pid)
  if (actual === undefined) return true // no /proc: the pid is all we can check
  // Two readings of one process agree exactly (same boot time, same tick); 20 ms of slack for rounding.
  if (owner.startMs !== undefined) return Math.abs(actual - owner.startMs) <= 20
  if (owner.writtenAtMs !== undefined) return actual <= owner.writtenAtMs + 20
  return true
}

/** `<name>.tmp-<pid>` style temporaries: is the writer (by pid and the entry's mtime) still alive? */
export function isTempWriterAlive(params: {pid: number; file: string}): boolean {
  if (params.pid === process.pid) return true
  let writtenAtMs: number | undefined
  try {
    writtenAtMs = fs.statSync(params.file).mtimeMs
  } catch {
    return false
  }
  return isOwnerAlive({pid: params.pid, writtenAtMs})
}

interface ClaimRecord extends ProcessOwner {
  host: string
  since: string
  command: string
}

export interface DirClaim {
  file: string
  /** Remove the claim (only if it is still ours). */
  release(): void
}

/**
 * Take the exclusive claim on `dir` (a file created with O_EXCL). A claim whose owner is dead
 * (pid gone, or reused by a process that started later) is taken over; a live one throws
 * ConfigError `claim.held` naming the process, its command and since when.
 */
export function claimDir(params: {dir: string; what: string; file?: string; command?: string}): DirClaim {
  const file = path.join(params.dir, params.file ?? '.claim')
  const me: ClaimRecord = {...currentOwner(), host: os.hostname(), since: new Date().toISOString(), command: params.command ?? process.argv.slice(1).join(' ')}
  const text = `${JSON.stringify(me)}\n`
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx')
      try {
        fs.writeSync(fd, text)
      } finally {
        fs.closeSync(fd)
      }
      return {
        file,
        release: () => {
          try {
            if (fs.readFileSync(file, 'utf8') === text) fs.unlinkSync(file)
          } catch {
            // already gone
          }
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const held = readClaim(file)
    if (held === 'gone') continue
    if (held === 'being-written') {
      sleepMs(50)
      continue
    }
    if (held.record !== undefined && (held.record.host !== os.hostname() || isOwnerAlive(held.record))) {
      const r = held.record
      const where = r.host === os.hostname() ? '' : ` on host ${r.host}`
      throw new ConfigError(`${params.what} is in use by process ${r.pid}${where} (\`${r.command}\`, since ${r.since})`, {
        code: 'claim.held',
        suggestions: [`Wait for process ${r.pid} to finish or stop it (Ctrl-C); if it is gone${where === '' ? '' : ' (it runs elsewhere)'}, delete ${file}.`],
      })
    }
    takeOver(file, held.text)
  }
  throw new ConfigError(`could not claim ${params.what}: ${file} keeps changing`, {code: 'claim.contended', suggestions: ['Another rtd is starting on it; try again.']})
}

/** Who holds the claim on `dir` now: a live owner's record, or undefined (no claim, or a stale one). */
export function claimHolder(params: {dir: string; file?: string}): {pid: number; host: string; command: string; since: string} | undefined {
  const held = readClaim(path.join(params.dir, params.file ?? '.claim'))
  if (typeof held === 'string' || held.record === undefined) return undefined
  const r = held.record
  return r.host !== os.hostname() || isOwnerAlive(r) ? {pid: r.pid, host: r.host, command: r.command, since: r.since} : undefined
}

function readClaim(file: string): 'gone' | 'being-written' | {text: string; record?: ClaimRecord} {
  let text: string
  let mtimeMs: number
  try {
    mtimeMs = fs.statSync(file).mtimeMs
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return 'gone'
  }
  try {
    return {text, record: JSON.parse(text) as ClaimRecord}
  } catch {
    // The owner writes it right after creating it: unreadable for a moment is normal, for long it is debris.
    return Date.now() - mtimeMs < 2000 ? 'being-written' : {text}
  }
}

/** Remove a stale claim without removing a fresh one another process put there meanwhile. */
function takeOver(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}`
  try {
    fs.renameSync(file, aside)
  } catch {
    return // someone else moved it first
  }
  let moved = ''
  try {
    moved = fs.readFileSync(aside, 'utf8')
  } catch {
    // vanished: nothing to restore
  }
  if (moved !== staleText && moved !== '') {
    // We moved a live claim taken between our read and our rename: put it back (fails only if yet another claim exists).
    try {
      fs.linkSync(aside, file)
    } catch {
      // the newer claim wins
    }
  }
  fs.rmSync(aside, {force: true})
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
