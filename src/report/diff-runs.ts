/**
 * `rtd diff <run-a> <run-b>`: what differs between two runs: the resolved pipelines, the data
 * (the shard cache key: same key = the same shards, token for token), the environment (rtd,
 * Node, TensorFlow.js, backend, machine, git commit) and the metrics at the steps both logged.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {differences, showValue, type KeyDifference} from './config-diff.js'
import {readRun, type MetricRecord, type RunRecord} from './read-run.js'

export interface MetricDifference {
  type: 'train' | 'eval'
  step: number
  metric: string
  a: number
  b: number
  /** b - a */
  delta: number
}

export interface RunDiff {
  a: string
  b: string
  config: KeyDifference[]
  data: {a?: string; b?: string; same: boolean | 'unknown'}
  environment: KeyDifference[]
  /** Eval metrics at every step both evaluated; train metrics at the last step both logged. */
  metrics: MetricDifference[]
  /** Steps both runs logged a train line for, and evaluated at. */
  commonSteps: {train: number; eval: number}
  /** Largest |b - a| of each train metric over every common train step. */
  trainMaxDelta: Record<string, number>
}

/** Keys that differ between any two runs without meaning anything (when and how it was started). */
const VOLATILE_ENV = new Set(['argv', 'started', 'time', 'hostname', 'pid', 'cwd', 'pipelineFile'])

/**
 * The shard cache key of a run's data stage: from its metrics line (`shards_key`), else from the
 * shard directory its run.log names (`.../shards/<key>`).
 */
export function dataKey(run: RunRecord): string | undefined {
  try {
    for (const line of fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8').split('\n')) {
      if (!line.includes('"stage":"data"')) continue
      const r = JSON.parse(line) as {shards_key?: string}
      if (typeof r.shards_key === 'string') return r.shards_key
    }
  } catch {
    // no metrics yet
  }
  try {
    const log = fs.readFileSync(path.join(run.dir, 'run.log'), 'utf8')
    const m = /[\\/]shards[\\/]([0-9a-f]{8,})\b/.exec(log)
    if (m) return m[1]
  } catch {
    // no log
  }
  return undefined
}

const numeric = (r: MetricRecord): [string, number][] =>
  Object.entries(r).filter((e): e is [string, number] => typeof e[1] === 'number' && !['step', 'epoch', 'tokens_per_s', 'draws'].includes(e[0]))

export function diffRuns(dirA: string, dirB: string): RunDiff {
  const a = readRun(dirA)
  const b = readRun(dirB)
  const keyA = dataKey(a)
  const keyB = dataKey(b)
  const metrics: MetricDifference[] = []
  const bEval = new Map(b.eval.map((r) => [r.step, r]))
  let evalCommon = 0
  for (const ra of a.eval) {
    const rb = bEval.get(ra.step)
    if (!rb) continue
    evalCommon++
    for (const [k, va] of numeric(ra)) {
      const vb = rb[k]
      if (typeof vb === 'number') metrics.push({type: 'eval', step: ra.step, metric: k, a: va, b: vb, delta: vb - va})
    }
  }
  const bTrain = new Map(b.train.map((r) => [r.step, r]))
  const trainMaxDelta: Record<string, number> = {}
  let lastCommon: [MetricRecord, MetricRecord] | undefined
  let trainCommon = 0
  for (const ra of a.train) {
    const rb = bTrain.get(ra.step)
    if (!rb) continue
    trainCommon++
    lastCommon = [ra, rb]
    for (const [k, va] of numeric(ra)) {
      const vb = rb[k]
      if (typeof vb === 'number') trainMaxDelta[k] = Math.max(trainMaxDelta[k] ?? 0, Math.abs(vb - va))
    }
  }
  if (lastCommon) {
    const [ra, rb] = lastCommon
    for (const [k, va] of numeric(ra)) {
      const vb = rb[k]
      if (typeof vb === 'number') metrics.push({type: 'train', step: ra.step, metric: k, a: va, b: vb, delta: vb - va})
    }
  }
  return {
    a: a.dir,
    b: b.dir,
    config: differences([a.resolved, b.resolved]),
    data: {...(keyA ? {a: keyA} : {}), ...(keyB ? {b: keyB} : {}), same: keyA && keyB ? keyA === keyB : 'unknown'},
    environment: differences([a.environment, b.environment], {ignore: (k) => VOLATILE_ENV.has(k.split('.')[0])}),
    metrics,
    commonSteps: {train: trainCommon, eval: evalCommon},
    trainMaxDelta,
  }
}

const num = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4))

/** The diff as text for the terminal. */
export function formatRunDiff(d: RunDiff): string {
  const lines: string[] = [`a: ${d.a}`, `b: ${d.b}`, '']
  const section = (title: string, diffs: KeyDifference[], none: string) => {
    lines.push(`${title}:`)
    if (diffs.length === 0) lines.push(`  ${none}`)
    for (const x of diffs) lines.push(`  ${x.key}: ${showValue(x.values[0])} -> ${showValue(x.values[1])}`)
    lines.push('')
  }
  section('config (resolved pipeline)', d.config, 'identical')
  lines.push('data:')
  if (d.data.same === 'unknown') lines.push(`  unknown (shard key a: ${d.data.a ?? 'not recorded'}, b: ${d.data.b ?? 'not recorded'})`)
  else lines.push(d.data.same ? `  same shards (key ${d.data.a})` : `  different shards: ${d.data.a} -> ${d.data.b}`)
  lines.push('')
  section('environment', d.environment, 'identical (apart from argv and start times)')
  lines.push(`metrics (${d.commonSteps.eval} common eval steps, ${d.commonSteps.train} common train steps):`)
  if (d.metrics.length === 0) lines.push('  no step logged by both runs')
  let last = ''
  const width = Math.max(24, ...d.metrics.map((m) => m.metric.length))
  for (const m of d.metrics) {
    const head = `  ${m.type} step ${m.step}`
    if (head !== last) lines.push(head)
    last = head
    lines.push(`    ${m.metric.padEnd(width)} ${num(m.a).padStart(12)} ${num(m.b).padStart(12)}  ${m.delta >= 0 ? '+' : ''}${num(m.delta)}`)
  }
  const maxes = Object.entries(d.trainMaxDelta)
  if (maxes.length > 0) lines.push(`  largest |b - a| over the common train steps: ${maxes.map(([k, v]) => `${k} ${num(v)}`).join(', ')}`)
  return lines.join('\n')
}
