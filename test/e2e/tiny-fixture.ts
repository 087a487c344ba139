/**
 * A reduced pipelines/tiny-gdes.yaml for end-to-end tests: a small synthetic corpus file, a
 * ~120-piece tokenizer, hidden 32, 2 layers, 32-token sequences, a few dozen steps. Runs in
 * seconds on 2 cores, through the CLI (subprocess) or the runner (in-process).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {readSafetensors, type HostTensor} from '../../src/checkpoint/index.js'
import {loadPipeline} from '../../src/pipeline/load-pipeline.js'
import {runPipeline, type RunResult} from '../../src/pipeline/runner.js'
import {repoRoot} from '../helpers/run-cli.js'

export {repoRoot}

export const pipelineFile = (name: string): string => path.join(repoRoot, 'pipelines', `${name}.yaml`)

/** 600 seeded pseudo-sentences over a 40-word vocabulary (deterministic). */
export function writeCorpus(dir: string): string {
  const words = 'the a cat dog sat on mat ran fast slow big small red blue house tree river bird sang loud quiet happy sad old new green yellow and but then when where why how who what film plot actor scene'.split(' ')
  let s = 1
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
  const lines: string[] = []
  for (let i = 0; i < 600; i++) {
    const n = 6 + Math.floor(next() * 14)
    lines.push(Array.from({length: n}, () => words[Math.floor(next() * words.length)]).join(' ') + '.')
  }
  const file = path.join(dir, 'corpus.txt')
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Overrides that shrink tiny-gdes.yaml (or a file extending it) to a seconds-long run. */
export function tinyOverrides(opts: {corpus: string; outputDir: string; maxSteps?: number; extra?: string[]}): string[] {
  return [
    '~data.source.package',
    `data.source.files=${opts.corpus}`,
    'data.tokenizer.train.vocab_size=120',
    'data.max_length=32',
    'model.config.hidden_size=32',
    'model.config.num_hidden_layers=2',
    'model.config.num_attention_heads=2',
    'model.config.intermediate_size=64',
    'model.config.position_buckets=8',
    'model.config.max_position_embeddings=64',
    `schedule.max_steps=${opts.maxSteps ?? 20}`,
    'schedule.batch_size=8',
    'schedule.log_every=1',
    'evaluation.max_batches=2',
    `output.dir=${opts.outputDir}`,
    ...(opts.extra ?? []),
  ]
}

/** The single run directory `<outputDir>/<name>-<stamp>`. */
export function runDirOf(outputDir: string, name: string): string {
  const dirs = fs.readdirSync(outputDir).filter((d) => d.startsWith(`${name}-`) && fs.statSync(path.join(outputDir, d)).isDirectory())
  if (dirs.length !== 1) throw new Error(`expected one run of ${name} in ${outputDir}, found ${dirs.join(', ') || 'none'}`)
  return path.join(outputDir, dirs[0])
}

export type MetricsLine = Record<string, unknown> & {type?: string; step?: number}

export function readMetrics(runDir: string): MetricsLine[] {
  const file = path.join(runDir, 'metrics.jsonl')
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsLine]
      } catch {
        return [] // a line cut by SIGKILL
      }
    })
}

/** Train losses by step; a later line for the same step (after a resume) wins. */
export function trainLosses(runDir: string): Map<number, number> {
  const out = new Map<number, number>()
  for (const m of readMetrics(runDir)) if (m.type === 'train') out.set(m.step!, m.loss as number)
  return out
}

export function tensorsOf(file: string): Map<string, HostTensor> {
  return readSafetensors(file).tensors
}

/** Run a pipeline in this process (no subprocess start-up), with the shard cache in `cacheDir`. */
export async function runInProcess(opts: {file: string; overrides: string[]; cacheDir: string}): Promise<RunResult> {
  const pipeline = await loadPipeline({file: opts.file, overrides: opts.overrides})
  return runPipeline({pipeline, cacheDir: opts.cacheDir})
}
