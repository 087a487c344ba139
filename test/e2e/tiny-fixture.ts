/**
 * A reduced pipelines/tiny-gdes.yaml for end-to-end tests: a small synthetic corpus file, a
 * ~120-piece tokenizer, hidden 32, 2 layers, 32-token sequences, a few dozen steps. Runs in
 * seconds on 2 cores, through the CLI (subprocess, tinyCliRun) or the runner (in-process), and
 * the checks the e2e suites share on such a run (train losses, GDES-merged export, `rtd export`
 * again).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {readSafetensors, type HostTensor} from '../../src/checkpoint/index.js'
import {loadPipeline} from '../../src/pipeline/load-pipeline.js'
import {runPipeline, type RunResult} from '../../src/pipeline/runner.js'
import {repoRoot, runCli, type CliResult} from '../helpers/run-cli.js'

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

/** The model part of tinyOverrides: tiny-gdes.yaml's DeBERTa-v3 config shrunk. */
const TINY_DEBERTA_CONFIG = [
  'model.config.hidden_size=32',
  'model.config.num_hidden_layers=2',
  'model.config.num_attention_heads=2',
  'model.config.intermediate_size=64',
  'model.config.position_buckets=8',
  'model.config.max_position_embeddings=64',
]

/**
 * Overrides that shrink tiny-gdes.yaml (or a file extending it) to a seconds-long run; `model`
 * replaces the DeBERTa-v3 config lines (another architecture's pipeline).
 */
export function tinyOverrides(opts: {corpus: string; outputDir: string; maxSteps?: number; model?: string[]; extra?: string[]}): string[] {
  return [
    '~data.source.package',
    `data.source.files=${opts.corpus}`,
    'data.tokenizer.train.vocab_size=120',
    'data.max_length=32',
    ...(opts.model ?? TINY_DEBERTA_CONFIG),
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

/** One reduced pipeline run through the CLI, filled in by the `before` hook of tinyCliRun. */
export interface TinyCliRun {
  /** Temp folder with the corpus, the shard cache (cache/) and the runs (output.dir runs/); removed after the suite. */
  tmp: string
  outputDir: string
  runDir: string
  /** <output.dir>/<exportName>: the end-of-training export. */
  exportDir: string
  cli: CliResult
}

/**
 * Registers hooks on the calling suite: before, `rtd run <pipeline> <tinyOverrides> --json` in a
 * fresh temp folder (subprocess); after, removes the folder. The returned object is filled in by
 * the before hook.
 */
export function tinyCliRun(opts: {pipeline: string; runName: string; exportName: string; maxSteps: number; model?: string[]; extra?: string[]}): TinyCliRun {
  const run = {} as TinyCliRun
  before(async () => {
    run.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `rtd-${opts.runName}-`))
    run.outputDir = path.join(run.tmp, 'runs')
    const corpus = writeCorpus(run.tmp)
    const overrides = tinyOverrides({corpus, outputDir: run.outputDir, maxSteps: opts.maxSteps, model: opts.model, extra: opts.extra})
    run.cli = await runCli({args: ['run', opts.pipeline, ...overrides, '--json'], env: {RTD_CACHE: path.join(run.tmp, 'cache')}})
    run.runDir = runDirOf(run.outputDir, opts.runName)
    run.exportDir = path.join(run.outputDir, opts.exportName)
  })
  after(() => {
    if (run.tmp !== undefined) fs.rmSync(run.tmp, {recursive: true, force: true})
  })
  return run
}

/** The run's train lines: one per step 1..steps, each loss = loss_mlm + 50 * loss_rtd (tiny-gdes.yaml's lambda). */
export function expectTrainLosses(runDir: string, steps: number): MetricsLine[] {
  const train = readMetrics(runDir).filter((m) => m.type === 'train')
  expect(train.map((m) => m.step)).to.deep.equal(Array.from({length: steps}, (_, i) => i + 1))
  for (const m of train) expect(m.loss as number, `loss at step ${m.step}`).to.be.closeTo((m.loss_mlm as number) + 50 * (m.loss_rtd as number), 1e-3 * (m.loss as number))
  return train
}

/**
 * The export's shared embedding tables are the checkpoint's generator table plus the
 * discriminator's GDES delta (`<prefix>.<table>._weight`), each float32 add exact; every
 * `stride`-th value is compared. Returns each delta's largest |value|.
 */
export function expectMergedTables(opts: {runDir: string; exportDir: string; step: number; prefix: string; tables: string[]; stride?: number}): Record<string, number> {
  const ckpt = tensorsOf(path.join(opts.runDir, 'checkpoints', `step-${opts.step}`, 'model.safetensors'))
  const exported = tensorsOf(path.join(opts.exportDir, 'model.safetensors'))
  const largest: Record<string, number> = {}
  for (const table of opts.tables) {
    const eg = ckpt.get(`generator/${opts.prefix}.${table}.weight`)
    const delta = ckpt.get(`discriminator/${opts.prefix}.${table}._weight`)
    const merged = exported.get(`${opts.prefix}.${table}.weight`)
    expect(eg, `generator ${table} in the checkpoint`).to.not.equal(undefined)
    expect(delta, `GDES keeps the ${table} delta in the checkpoint`).to.not.equal(undefined)
    expect(merged, `${table} in the export`).to.not.equal(undefined)
    expect(merged!.shape, table).to.deep.equal(eg!.shape)
    let m = 0
    for (let i = 0; i < merged!.data.length; i += opts.stride ?? 1) {
      const want = Math.fround(eg!.data[i] + delta!.data[i])
      if (merged!.data[i] !== want) expect.fail(`${table}[${i}] = ${merged!.data[i]}, generator + delta = ${want}`)
    }
    for (const x of delta!.data) m = Math.max(m, Math.abs(x))
    largest[table] = m
  }
  return largest
}

/** All files below dir, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort()
}

/**
 * `rtd export <runDir> --output <into>` writes the end-of-training export again: the same files,
 * byte for byte, in <into>/<the export folder's name>. Returns the command's JSON output.
 */
export async function expectExportAgain(opts: {runDir: string; exportDir: string; into: string}): Promise<{step: number; outputs: Record<string, string>}> {
  const r = await runCli({args: ['export', opts.runDir, '--output', opts.into, '--json']})
  expect(r.code, r.stderr).to.equal(0)
  const again = path.join(opts.into, path.basename(opts.exportDir))
  const files = filesUnder(opts.exportDir)
  expect(filesUnder(again)).to.deep.equal(files)
  for (const f of files) expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(opts.exportDir, f))), f).to.equal(true)
  return JSON.parse(r.stdout) as {step: number; outputs: Record<string, string>}
}

/** Run a pipeline in this process (no subprocess start-up), with the shard cache in `cacheDir`. */
export async function runInProcess(opts: {file: string; overrides: string[]; cacheDir: string}): Promise<RunResult> {
  const pipeline = await loadPipeline({file: opts.file, overrides: opts.overrides})
  return runPipeline({pipeline, cacheDir: opts.cacheDir})
}
