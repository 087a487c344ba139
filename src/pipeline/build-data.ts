/**
 * `rtd data build`: run only a pipeline's data stage (through its plugin, like `rtd run`
 * would) and report what it produced. No run directory is created; the shards land in the
 * shared cache where a later `rtd run` finds them.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {ConfigError} from '../errors.js'
import type {RunState} from '../plugin/contract.js'
import type {Logger, RunContext} from '../plugin/run-context.js'
import type {ResolvedPipeline} from './load-pipeline.js'
import {createProgress} from './run-log.js'
import {checkShardFiles} from '../data/check-shards.js'
import {describeProblems} from '../data/prepare-data.js'
import type {PreparedData} from '../data/prepared-data.js'

export interface BuildDataResult {
  shardDir: string
  tokenizerDir: string
  cacheHit: boolean
  maxLength: number
  train: {documents: number; sequences: number; tokens: number}
  eval: {documents: number; sequences: number; tokens: number} | null
  seconds: number
}

export async function buildData(params: {
  pipeline: ResolvedPipeline
  /** Discard the cached shards of this key and build again. */
  force?: boolean
  /** On a cache hit, also check every shard's sha256 against the manifest (sizes are always checked); rebuild if one differs. */
  verify?: boolean
  signal?: AbortSignal
  log?: Logger
  tty?: NodeJS.WriteStream
  /** Default RTD_CACHE or ~/.cache/rtd. */
  cacheDir?: string
}): Promise<BuildDataResult> {
  const p = params.pipeline.value
  const section = p.data as {plugin?: string} | undefined
  if (!section?.plugin) {
    throw new ConfigError(`${params.pipeline.file} has no data stage (a \`data:\` section with a \`plugin:\`).`, {code: 'data.no_stage'})
  }
  const {plugin: name, ...options} = section
  const plugin = params.pipeline.registry.get('data', name)!
  const log: Logger = params.log ?? {info: () => {}, warn: () => {}, debug: () => {}}
  const cacheDir = params.cacheDir ?? process.env.RTD_CACHE ?? path.join(os.homedir(), '.cache', 'rtd')
  const dir = path.dirname(params.pipeline.file)
  const ctx: RunContext = {
    pipeline: p,
    pipelineFile: params.pipeline.file,
    runDir: cacheDir,
    cacheDir,
    seed: p.seed,
    log,
    metrics: {write: () => {}},
    signal: params.signal ?? new AbortController().signal,
    resolvePath: (x) => path.resolve(dir, x),
    progress: (o) => createProgress({...o, tty: params.tty, log}),
    architecture: (name) => params.pipeline.registry.architecture(name),
  }
  const start = performance.now()
  const runOnce = async () => {
    const state: RunState = {}
    await (await plugin.create(options, ctx)).run(state)
    return state.data as PreparedData
  }
  let data = await runOnce()
  if (params.force && data.cacheHit) {
    log.info(`data: --force, discarding ${data.shardDir}`)
    fs.rmSync(data.shardDir, {recursive: true, force: true})
    data = await runOnce()
  } else if (params.verify && data.cacheHit) {
    const problems = checkShardFiles({shardDir: data.shardDir, manifest: data.manifest, hash: true})
    if (problems.length > 0) {
      log.warn(`data: --verify: the cached shards in ${data.shardDir} are damaged (${describeProblems(problems)}); rebuilding them`)
      fs.rmSync(data.shardDir, {recursive: true, force: true})
      data = await runOnce()
    } else log.info(`data: --verify: every shard matches its manifest sha256`)
  }
  const m = data.manifest
  return {
    shardDir: data.shardDir,
    tokenizerDir: data.tokenizerDir,
    cacheHit: data.cacheHit,
    maxLength: data.maxLength,
    train: {documents: m.train.documents, sequences: m.train.sequences, tokens: m.train.tokens},
    eval: m.eval ? {documents: m.eval.documents, sequences: m.eval.sequences, tokens: m.eval.tokens} : null,
    seconds: (performance.now() - start) / 1000,
  }
}
