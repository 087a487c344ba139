/**
 * The data stage's work: source -> documents -> document-level split -> tokenizer (loaded, or
 * trained on the train split) -> token ids -> [CLS] ... [SEP] sequences -> Arrow shards in a
 * content-addressed cache directory.
 *
 * Cache layout under `<cacheDir>`:
 *   shards/<key>/manifest.json, train-00000.arrow..., eval-00000.arrow..., tokenizer/
 *   tokenizers/<tokKey>/        tokenizers trained from a corpus (reused across shard builds)
 *   file-hashes.json            content hashes memoised by (size, mtime, inode)
 * key = hash(format version, source content (file sha256s or dataset revision), tokenizer
 * fingerprint, every option that changes the shards, seed). Same key: reuse without reading the
 * source. Builds go to `<key>.tmp-<pid>` and are renamed when complete (crash/Ctrl-C safe).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ConfigError, Interrupted} from '../errors.js'
import type {Logger, ProgressBar} from '../plugin/run-context.js'
import {commitTmpDir, removeStaleTmpDirs, tmpPathFor} from './cache-dir.js'
import {checkShardFiles} from './check-shards.js'
import type {HubOptions} from './hub-dataset.js'
import {
  SHARD_FORMAT_VERSION,
  type DataManifest,
  type PackingMode,
  type PreparedData,
  type SplitManifest,
  type TokenizerLike,
  type TokenizerType,
} from './prepared-data.js'
import {readSourceDocuments, resolveSource, type SourceOptions} from './read-source.js'
import {SequencePacker} from './sequence-packer.js'
import {ShardSet} from './shard-set.js'
import {ShardWriter} from './shard-writer.js'
import {splitDocuments} from './split-documents.js'
import {stableHash} from './stable-hash.js'

export interface TrainTokenizerOptions {
  type: TokenizerType
  vocab_size: number
  min_frequency?: number
  lowercase?: boolean
}

export type TokenizerOptions = {from: string} | {train: TrainTokenizerOptions}

/** The data plugin's options (plugins/text/schema.json holds the defaults). */
export interface DataOptions {
  source: SourceOptions
  tokenizer: TokenizerOptions
  /** Sequence length including [CLS] and [SEP]. */
  max_length: number
  packing: PackingMode
  /** Fraction of documents held out for evaluation. */
  eval_fraction: number
  /** Sequences per shard file. */
  shard_rows: number
  /** Seed of the document split (default: the pipeline seed, PrepareDataParams.seed). */
  seed?: number
}

/** How the data stage gets tokenizers (src/tokenizer in production, injectable in tests). */
export interface TokenizerProvider {
  /** A model id on the hub or a folder with tokenizer.json / spm.model. */
  load(params: {from: string}): Promise<TokenizerLike>
  train(params: {texts: string[]; type: TokenizerType; vocabSize: number; minFrequency?: number; lowercase?: boolean}): Promise<TokenizerLike>
}

export interface PrepareDataParams {
  options: DataOptions
  cacheDir: string
  /** The pipeline seed: the data seed when `options.seed` is not set. */
  seed: number
  resolvePath: (p: string) => string
  tokenizers: TokenizerProvider
  /** Hub client settings for `hub:` sources (default: from the environment). */
  hub?: HubOptions
  signal?: AbortSignal
  log?: Logger
  progress?: (opts: {label: string; total?: number; unit?: string}) => ProgressBar
  /** Rebuild even when the cache has the key. */
  force?: boolean
}

/** Documents between progress updates / abort checks. */
const CHUNK = 512

export async function prepareData(input: PrepareDataParams): Promise<PreparedData> {
  // data.seed owns the split (and the key): the training seed can change without moving the held-out set
  const params = {...input, seed: input.options.seed ?? input.seed}
  const {options, cacheDir} = params
  checkOptions(options)
  const source = await resolveSource({source: options.source, resolvePath: params.resolvePath, cacheDir, hub: params.hub})
  const sourceKey = {fingerprint: source.fingerprint, format: source.format, column: source.column, txtMode: source.txtMode}

  let documents: string[] | null = null
  let split: {train: Int32Array; eval: Int32Array} | null = null
  const readDocs = async () => {
    if (!documents) {
      params.log?.info(`data: reading ${source.description}`)
      documents = await readSourceDocuments({...source, signal: params.signal})
      split = splitDocuments({count: documents.length, evalFraction: options.eval_fraction, seed: params.seed})
    }
    return {documents, split: split!}
  }

  const tokenizer = await getTokenizer({...params, sourceKey, readDocs})
  const keyInputs = {
    formatVersion: SHARD_FORMAT_VERSION,
    source: sourceKey,
    tokenizer: tokenizer.fingerprint(),
    max_length: options.max_length,
    packing: options.packing,
    eval_fraction: options.eval_fraction,
    shard_rows: options.shard_rows,
    seed: params.seed, // the data seed: equal to the pipeline seed by default, so older keys still match
  }
  const key = stableHash(keyInputs)
  const shardsRoot = path.join(cacheDir, 'shards')
  const shardDir = path.join(shardsRoot, key)
  fs.mkdirSync(shardsRoot, {recursive: true})
  removeStaleTmpDirs({dir: shardsRoot})

  if (params.force && fs.existsSync(shardDir)) fs.rmSync(shardDir, {recursive: true, force: true})
  const cached = readManifest(shardDir)
  if (cached) {
    const problems = checkShardFiles({shardDir, manifest: cached})
    if (problems.length === 0) {
      params.log?.info(`data: cache hit ${shardDir}`)
      return prepared({shardDir, manifest: cached, tokenizer, cacheHit: true})
    }
    params.log?.warn(`data: the cached shards in ${shardDir} are damaged (${describeProblems(problems)}); rebuilding them`)
    fs.rmSync(shardDir, {recursive: true, force: true})
  }

  const {documents: docs, split: sp} = await readDocs()
  const tmp = tmpPathFor(shardDir)
  fs.rmSync(tmp, {recursive: true, force: true})
  fs.mkdirSync(tmp, {recursive: true})
  try {
    await tokenizer.save(path.join(tmp, 'tokenizer'))
    const bar = params.progress?.({label: 'tokenizing', total: docs.length, unit: 'docs'})
    const counter = {docs: 0, tokens: 0, start: performance.now()}
    let train: SplitManifest
    let evalManifest: SplitManifest | null = null
    try {
      train = await writeSplit({...params, dir: tmp, split: 'train', indices: sp.train, documents: docs, tokenizer, bar, counter})
      if (sp.eval.length > 0) {
        evalManifest = await writeSplit({...params, dir: tmp, split: 'eval', indices: sp.eval, documents: docs, tokenizer, bar, counter})
      }
    } finally {
      bar?.stop()
    }
    if (train.sequences === 0) {
      throw new ConfigError(`the data source ${source.description} produced no token ids with this tokenizer.`, {code: 'data.source_empty'})
    }
    const manifest: DataManifest = {
      formatVersion: SHARD_FORMAT_VERSION,
      key,
      keyInputs,
      createdAt: new Date().toISOString(),
      maxLength: options.max_length,
      packing: options.packing,
      tokenizerDir: 'tokenizer',
      tokenizerFingerprint: tokenizer.fingerprint(),
      special: {...tokenizer.special},
      vocabSize: tokenizer.vocabSize,
      train,
      eval: evalManifest,
    }
    // the manifest is written last: a directory with a manifest is complete
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2))
    commitTmpDir({tmp, final: shardDir})
    const secs = (performance.now() - counter.start) / 1000
    params.log?.info(
      `data: ${counter.docs} documents, ${counter.tokens} tokens in ${secs.toFixed(1)} s (${Math.round(counter.tokens / secs)} tokens/s) -> ${shardDir}`,
    )
    return prepared({shardDir, manifest: readManifest(shardDir)!, tokenizer, cacheHit: false})
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
}

/** Open a finished shard directory (as written by prepareData). */
export function prepared(params: {shardDir: string; manifest: DataManifest; tokenizer: TokenizerLike; cacheHit: boolean}): PreparedData {
  const {shardDir, manifest} = params
  return {
    tokenizer: params.tokenizer,
    tokenizerDir: path.join(shardDir, manifest.tokenizerDir),
    shardDir,
    train: new ShardSet({dir: shardDir, split: 'train', manifest: manifest.train}),
    eval: manifest.eval ? new ShardSet({dir: shardDir, split: 'eval', manifest: manifest.eval}) : null,
    maxLength: manifest.maxLength,
    manifest,
    cacheHit: params.cacheHit,
  }
}

/** The manifest of a complete shard directory, or null when absent or not from this format version. */
export function readManifest(shardDir: string): DataManifest | null {
  const file = path.join(shardDir, 'manifest.json')
  if (!fs.existsSync(file)) return null
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as DataManifest
    return m.formatVersion === SHARD_FORMAT_VERSION ? m : null
  } catch {
    return null
  }
}

/** The first few problems, and how many more. */
export function describeProblems(problems: string[]): string {
  const shown = problems.slice(0, 3).join('; ')
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more` : shown
}

function checkOptions(o: DataOptions): void {
  if (!Number.isInteger(o.max_length) || o.max_length < 3) {
    throw new ConfigError(`data.max_length must be an integer >= 3 (room for [CLS] x [SEP]), got ${o.max_length}.`, {code: 'data.max_length'})
  }
  if (!(o.eval_fraction >= 0 && o.eval_fraction < 1)) {
    throw new ConfigError(`data.eval_fraction must be in [0, 1), got ${o.eval_fraction}.`, {code: 'data.eval_fraction'})
  }
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0)) {
    throw new ConfigError(`data.seed must be a non-negative integer, got ${o.seed}.`, {code: 'data.seed'})
  }
  if (!Number.isInteger(o.shard_rows) || o.shard_rows < 1) {
    throw new ConfigError(`data.shard_rows must be a positive integer, got ${o.shard_rows}.`, {code: 'data.shard_rows'})
  }
}

async function getTokenizer(
  params: PrepareDataParams & {
    sourceKey: Record<string, unknown>
    readDocs: () => Promise<{documents: string[]; split: {train: Int32Array; eval: Int32Array}}>
  },
): Promise<TokenizerLike> {
  const t = params.options.tokenizer
  if ('from' in t) return params.tokenizers.load({from: t.from})
  // A trained tokenizer is cached under a key of everything it depends on, so a cache hit of
  // the shards never needs to read the corpus or retrain.
  const tokKey = stableHash({v: 1, source: params.sourceKey, train: t.train, eval_fraction: params.options.eval_fraction, seed: params.seed})
  const root = path.join(params.cacheDir, 'tokenizers')
  const dir = path.join(root, tokKey)
  fs.mkdirSync(root, {recursive: true})
  removeStaleTmpDirs({dir: root})
  if (fs.existsSync(path.join(dir, '.complete')) && !params.force) return params.tokenizers.load({from: dir})
  const {documents, split} = await params.readDocs()
  const texts = Array.from(split.train, (i) => documents[i]) // train split only: eval text stays unseen
  params.log?.info(`data: training a ${t.train.type} tokenizer (vocab ${t.train.vocab_size}) on ${texts.length} documents`)
  const tok = await params.tokenizers.train({
    texts,
    type: t.train.type,
    vocabSize: t.train.vocab_size,
    minFrequency: t.train.min_frequency,
    lowercase: t.train.lowercase,
  })
  const tmp = tmpPathFor(dir)
  fs.rmSync(tmp, {recursive: true, force: true})
  try {
    await tok.save(tmp)
    fs.writeFileSync(path.join(tmp, '.complete'), tok.fingerprint())
    if (fs.existsSync(dir)) fs.rmSync(dir, {recursive: true, force: true})
    commitTmpDir({tmp, final: dir})
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
  return tok
}

async function writeSplit(
  params: PrepareDataParams & {
    dir: string
    split: 'train' | 'eval'
    indices: Int32Array
    documents: string[]
    tokenizer: TokenizerLike
    bar?: ProgressBar
    counter: {docs: number; tokens: number; start: number}
  },
): Promise<SplitManifest> {
  const {options, tokenizer, counter} = params
  const writer = new ShardWriter({dir: params.dir, split: params.split, shardRows: options.shard_rows, maxLength: options.max_length})
  const packer = new SequencePacker({
    maxLength: options.max_length,
    mode: options.packing,
    cls: tokenizer.special.cls,
    sep: tokenizer.special.sep,
    emit: (seq) => writer.add(seq),
  })
  for (let start = 0; start < params.indices.length; start += CHUNK) {
    // yield to the event loop so Ctrl-C (the abort signal) can be seen between chunks
    await new Promise((r) => setImmediate(r))
    if (params.signal?.aborted) throw new Interrupted('interrupted while building data shards; the partial build was discarded')
    const end = Math.min(params.indices.length, start + CHUNK)
    for (let k = start; k < end; k++) {
      const ids = tokenizer.encode(params.documents[params.indices[k]])
      counter.tokens += ids.length
      packer.add(ids)
    }
    counter.docs += end - start
    const secs = (performance.now() - counter.start) / 1000
    params.bar?.update(counter.docs, {tokens: counter.tokens, 'tokens/s': Math.round(counter.tokens / Math.max(secs, 1e-3))})
  }
  packer.finish()
  return writer.finish(params.indices.length)
}
