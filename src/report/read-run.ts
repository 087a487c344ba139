/**
 * What a report or a diff needs from a run directory: its name, resolved config, environment,
 * status, metrics.jsonl lines (train and eval, in order) and the discriminator samples of its
 * latest evaluation. Missing files give empty parts (a run that is still starting has no
 * metrics yet); a folder that is not a run directory is a usage error.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse} from 'yaml'

import {ConfigError} from '../errors.js'
import {readStatus, type RunStatus} from '../util/run-status.js'
import type {DiscriminatorSamples} from './samples.js'

export type MetricRecord = {type: string; step: number; [key: string]: unknown}

export interface RunRecord {
  /** Absolute path. */
  dir: string
  /** The folder name (`<name>-<timestamp>`): the run's label in plots and tables. */
  label: string
  /** The pipeline's `name`. */
  name: string
  resolved: Record<string, unknown>
  environment: Record<string, unknown>
  status?: RunStatus
  train: MetricRecord[]
  eval: MetricRecord[]
  samples?: DiscriminatorSamples
}

export const SAMPLES_FILE = 'samples.json'

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** metrics.jsonl lines; a torn last line (a run still writing) is skipped. */
export function readMetrics(runDir: string): MetricRecord[] {
  let text: string
  try {
    text = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
  } catch {
    return []
  }
  const out: MetricRecord[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const r = JSON.parse(line) as MetricRecord
      if (r && typeof r === 'object' && typeof r.type === 'string' && typeof r.step === 'number') out.push(r)
    } catch {
      // a partly written line
    }
  }
  return out
}

/**
 * Eval records keep the last one per step (a resumed run may evaluate a step again); train
 * records likewise, so a resume that repeats steps draws no zigzag.
 */
function lastPerStep(records: MetricRecord[]): MetricRecord[] {
  const byStep = new Map<number, MetricRecord>()
  for (const r of records) byStep.set(r.step, r)
  return [...byStep.values()].sort((a, b) => a.step - b.step)
}

export function readRun(dir: string): RunRecord {
  const abs = path.resolve(dir)
  const resolvedFile = path.join(abs, 'resolved.yaml')
  if (!fs.existsSync(resolvedFile)) {
    throw new ConfigError(`${dir} is not a run directory (no resolved.yaml)`, {
      code: 'report.not_a_run',
      suggestions: ['Give the run directory printed by `rtd run` (it holds resolved.yaml, metrics.jsonl, status.json).'],
    })
  }
  let resolved: Record<string, unknown> = {}
  try {
    resolved = (parse(fs.readFileSync(resolvedFile, 'utf8')) as Record<string, unknown>) ?? {}
  } catch (error) {
    throw new ConfigError(`${resolvedFile}: not readable YAML (${(error as Error).message})`, {code: 'report.bad_run'})
  }
  const metrics = readMetrics(abs)
  const samples = readJson(path.join(abs, SAMPLES_FILE)) as DiscriminatorSamples | undefined
  return {
    dir: abs,
    label: path.basename(abs),
    name: typeof resolved.name === 'string' ? resolved.name : path.basename(abs),
    resolved,
    environment: (readJson(path.join(abs, 'environment.json')) as Record<string, unknown>) ?? {},
    status: readStatus(abs),
    train: lastPerStep(metrics.filter((r) => r.type === 'train')),
    eval: lastPerStep(metrics.filter((r) => r.type === 'eval')),
    ...(samples && Array.isArray(samples.sequences) ? {samples} : {}),
  }
}

/** Labels that tell runs apart: the folder names, or parent/folder when two folders share a name. */
export function distinctLabels(runs: RunRecord[]): void {
  const seen = new Map<string, number>()
  for (const r of runs) seen.set(r.label, (seen.get(r.label) ?? 0) + 1)
  for (const r of runs) if ((seen.get(r.label) ?? 0) > 1) r.label = `${path.basename(path.dirname(r.dir))}/${r.label}`
}
