/**
 * The run's Logger (every line to run.log; info/warn also to the console, debug only with
 * --verbose), its MetricsSink (metrics.jsonl) and progress bars (on a TTY only; elsewhere a
 * log line at most every 30 s).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import type {Logger, MetricsSink, ProgressBar} from '../plugin/run-context.js'

export interface ConsoleSink {
  /** A human-readable line (log output); the CLI sends it to stderr. */
  line(text: string): void
  /** Where progress bars draw; only when it is a TTY and output is not --json. */
  tty?: NodeJS.WriteStream
}

export function createRunLogger(params: {runDir: string; console?: ConsoleSink; verbose?: boolean; now?: () => Date}): Logger {
  const file = path.join(params.runDir, 'run.log')
  const now = params.now ?? (() => new Date())
  const write = (level: string, message: string, echo: boolean) => {
    fs.appendFileSync(file, `${now().toISOString()} ${level.padEnd(5)} ${message}\n`)
    if (echo) params.console?.line(level === 'INFO' ? message : `${level.toLowerCase()}: ${message}`)
  }
  return {
    info: (m) => write('INFO', m, true),
    warn: (m) => write('WARN', m, true),
    debug: (m) => write('DEBUG', m, params.verbose === true),
  }
}

export function createMetricsSink(params: {runDir: string; now?: () => Date}): MetricsSink {
  const file = path.join(params.runDir, 'metrics.jsonl')
  const now = params.now ?? (() => new Date())
  return {
    write(record) {
      fs.appendFileSync(file, `${JSON.stringify({time: now().toISOString(), ...record})}\n`)
    },
  }
}

export function createProgress(params: {
  label: string
  total?: number
  unit?: string
  tty?: NodeJS.WriteStream
  log: Logger
  /** Seconds between log lines when there is no TTY. */
  logEverySeconds?: number
  now?: () => number
}): ProgressBar {
  const now = params.now ?? Date.now
  const unit = params.unit ?? 'it'
  const started = now()
  let last = 0
  const text = (done: number, fields?: Record<string, string | number>) => {
    const of = params.total === undefined ? `${done} ${unit}` : `${done}/${params.total} ${unit}`
    const rate = done / Math.max(1e-3, (now() - started) / 1000)
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
      .join(' ')
    return `${params.label} ${of} (${rate.toFixed(1)} ${unit}/s)${extra ? ` ${extra}` : ''}`
  }
  const tty = params.tty
  if (tty?.isTTY) {
    return {
      update(done, fields) {
        if (now() - last < 100 && done !== params.total) return
        last = now()
        const width = 24
        const bar = params.total ? `[${'#'.repeat(Math.round((width * Math.min(done, params.total)) / params.total)).padEnd(width)}] ` : ''
        tty.write(`\r\u001B[K${bar}${text(done, fields)}`)
      },
      stop() {
        tty.write('\r\u001B[K')
      },
    }
  }
  const every = (params.logEverySeconds ?? 30) * 1000
  last = started
  return {
    update(done, fields) {
      if (now() - last < every) return
      last = now()
      params.log.info(text(done, fields))
    },
    stop() {},
  }
}
