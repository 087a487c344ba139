/**
 * The data stage's work: source -> documents -> document-level split -> tokenizer (loaded, or
 * trained on the train split) -> token ids -> [CLS] ... [SEP] sequences -> Arrow shards in a
 * content-addressed cache directory.
 *
 * Streaming, in bounded memory: a first pass counts the documents (the split is a seeded
 * permutation of their count, one byte per document kept); tokenizer training reads the train
 * documents again (a seeded sample of at most TOKENIZER_SAMPLE_CHARS characters of text on large
 * corpora); the last pass tokenizes on worker threads, in order, and packs each split's
 * sequences into its shards. A corpus under RETAIN_CHARS is kept from the first pass instead
 * of read again. The shards are the same bytes as when the whole corpus was held in memory.
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
import * as os from 'node:os'
import * as path from 'node:path'
import {ConfigError, Interrupted, RuntimeFailure} from '../errors.js'
import type {Logger, ProgressBar} from '../util/run-io.js'
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
import {formatOf} from './read-documents-file.js'
import {resolveSource, sourceDocumentBatches, type ResolvedSource, type SourceOptions} from './read-source.js'
import {SequencePacker} from './sequence-packer.js'
import {ShardSet} from './shard-set.js'
import {ShardWriter} from './shard-writer.js'
import {evalMask} from './split-documents.js'
import {stableHash} from './stable-hash.js'
import {ChunkInvalidUtf8, TokenizePool, withPath} from './tokenize-pool.js'
import {encodeDocuments, type EncodedDocuments} from './encode-documents.js'
import {invalidUtf8Error} from './decode-utf8.js'
import {nominalChunks, type CountedChunk} from './text-chunks.js'
import {TOKENIZER_KINDS} from '../tokenizer/tokenizer.js'
import {Rng} from '../util/rng.js'

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
  /** Tokenizer worker threads; 0 tokenizes on the calling thread. Default: the CPU cores (at most 8), on corpora of POOL_MIN_CHARS or more. */
  workers?: number
}

/** How the data stage gets tokenizers (src/tokenizer in production, injectable in tests). */
export interface TokenizerProvider {
  /** A model id on the hub or a folder with tokenizer.json / spm.model. */
  load(params: {from: string}): Promise<TokenizerLike>
  /** `texts` are the train documents in source order, streamed (read them once). */
  train(params: {texts: AsyncIterable<string>; type: TokenizerType; vocabSize: number; minFrequency?: number; lowercase?: boolean}): Promise<TokenizerLike>
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
  /** Most characters a trained tokenizer sees (default TOKENIZER_SAMPLE_CHARS). */
  tokenizerSampleChars?: number
  /** Bytes per chunk of line-mode .txt files read by the workers (default CHUNK_BYTES; tests cut small files into many). */
  chunkBytes?: number
}

/** Documents (at most) per tokenizing batch: between progress updates / abort checks, and per worker message. */
const CHUNK_DOCS = 2048
/** Characters (at most, besides one document) per tokenizing batch. */
const CHUNK_CHARS = 1 << 20
/** A corpus with fewer characters is kept in memory from the counting pass rather than read again. */
export const RETAIN_CHARS = 32e6
/** Most characters of text a trained tokenizer sees: above it, a seeded sample of the train documents. */
export const TOKENIZER_SAMPLE_CHARS = 100e6
/** Below this many characters (or bytes, for line-mode .txt) the default is to tokenize on the calling thread (starting workers costs more). */
const POOL_MIN_CHARS = 2e6
/** Bytes of a line-mode .txt file a worker reads, counts or tokenizes per request. */
const CHUNK_BYTES = 1 << 20

/** What the counting pass learns about the corpus. */
interface Corpus {
  count: number
  chars: number
  /** 1 = eval document, by document index. */
  isEval: Uint8Array
  nEval: number
  /** The documents in order, again: from memory (small corpora) or read from the source. */
  batches(): AsyncIterable<string[]>
  /**
   * Line-mode .txt sources counted by worker threads: the chunks (bounds at line starts) the
   * workers read themselves in the tokenizing pass, the files' paths and the (open) pool.
   */
  chunked: {chunks: CountedChunk[]; files: string[]; pool: TokenizePool} | null
}

export async function prepareData(input: PrepareDataParams): Promise<PreparedData> {
  // data.seed owns the split (and the key): the training seed can change without moving the held-out set
  const params = {...input, seed: input.options.seed ?? input.seed}
  const {options, cacheDir} = params
  checkOptions(options)
  const source = await resolveSource({source: options.source, resolvePath: params.resolvePath, cacheDir, hub: params.hub})

  let corpus: Promise<Corpus> | null = null
  const scan = () => (corpus ??= scanCorpus({...params, source}))
  try {
    return await buildShards({params, source, scan})
  } finally {
    // the workers that counted a .txt corpus live until the shards are written (or the build fails)
    const c = await (corpus as Promise<Corpus> | null)?.catch(() => null)
    await c?.chunked?.pool.close()
  }
}

async function buildShards(input: {params: PrepareDataParams & {seed: number}; source: ResolvedSource; scan: () => Promise<Corpus>}): Promise<PreparedData> {
  const {params, source, scan} = input
  const {options, cacheDir} = params
  const sourceKey = {fingerprint: source.fingerprint, format: source.format, column: source.column, txtMode: source.txtMode}
  const tokenizer = await getTokenizer({...params, sourceKey, scan})
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

  const c = await scan()
  const tmp = tmpPathFor(shardDir)
  fs.rmSync(tmp, {recursive: true, force: true})
  fs.mkdirSync(tmp, {recursive: true})
  try {
    const tokenizerDir = path.join(tmp, 'tokenizer')
    await tokenizer.save(tokenizerDir)
    const counter = {docs: 0, tokens: 0, start: performance.now()}
    const {train, eval: evalManifest} = await writeShards({...params, dir: tmp, tokenizerDir, corpus: c, tokenizer, counter})
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

/** The counting pass: documents and characters, then the split (a byte per document). */
async function scanCorpus(params: PrepareDataParams & {source: ResolvedSource}): Promise<Corpus> {
  const {source} = params
  params.log?.info(`data: reading ${source.description}`)
  const read = () => sourceDocumentBatches({...source, signal: params.signal})
  let count = 0
  let chars = 0
  let retained: string[] | null = []
  const chunked = await countChunked(params)
  if (chunked) {
    retained = null
    for (const c of chunked.chunks) {
      count += c.docs
      chars += c.chars
    }
  } else {
    for await (const batch of read()) {
      for (const d of batch) {
        chars += d.length
        if (retained) retained.push(d)
      }
      count += batch.length
      if (retained && chars > RETAIN_CHARS) retained = null
    }
  }
  if (count === 0) {
    await chunked?.pool.close()
    throw new ConfigError(`the data source ${source.description} has no documents (every file is empty or whitespace).`, {
      code: 'data.source_empty',
      suggestions: ['Point `data.source` at files with text; for .txt check `txt_mode` (line or block).'],
    })
  }
  const mask = evalMask({count, evalFraction: params.options.eval_fraction, seed: params.seed})
  // in shared memory when workers read it (no copy per batch)
  const isEval = chunked ? new Uint8Array(new SharedArrayBuffer(count)) : mask
  if (chunked) isEval.set(mask)
  let nEval = 0
  for (let i = 0; i < count; i++) nEval += isEval[i]
  const kept = retained
  return {
    count,
    chars,
    isEval,
    nEval,
    batches: kept ? async function* () {
      for (let i = 0; i < kept.length; i += CHUNK_DOCS) yield kept.slice(i, i + CHUNK_DOCS)
    } : read,
    chunked,
  }
}

/**
 * The counting pass of line-mode .txt sources on worker threads: each reads and counts its own
 * chunks of the files (the main thread only adds up), and the same workers tokenize later. Null
 * (count on this thread) for other formats, `workers: 0`, small corpora, or when the workers do
 * not start.
 */
async function countChunked(params: PrepareDataParams & {source: ResolvedSource}): Promise<Corpus['chunked']> {
  const {source} = params
  const files = source.files
  const lineText = source.txtMode === 'line' && files.length > 0 && files.every((f) => {
    try {
      return formatOf(f, source.format) === 'txt'
    } catch {
      return false // an unknown extension: the reader reports it
    }
  })
  if (!lineText) return null
  const sizes = files.map((f) => fs.statSync(f).size)
  const bytes = sizes.reduce((a, b) => a + b, 0)
  const workers = params.options.workers ?? (bytes >= POOL_MIN_CHARS ? Math.min(8, os.availableParallelism()) : 0)
  if (workers < 1) return null
  const started = await TokenizePool.start({workers})
  if (!started.pool) {
    params.log?.warn(`data: counting and tokenizing on one thread: ${started.reason}`)
    return null
  }
  const pool = started.pool
  try {
    const nominal = files.flatMap((_, i) => nominalChunks(i, sizes[i], params.chunkBytes ?? CHUNK_BYTES))
    const chunks: CountedChunk[] = []
    // a few requests per worker in flight; the replies are small
    const inFlight: {chunk: (typeof nominal)[number]; result: Promise<{start: number; end: number; docs: number; chars: number}>}[] = []
    const takeOne = async () => {
      const next = inFlight.shift()!
      const got = await next.result.catch((e: unknown) => {
        if (e instanceof ChunkInvalidUtf8) throw invalidUtf8Error({file: files[next.chunk.file], offset: e.offset, byte: e.byte, cause: e})
        throw e
      })
      if (got.docs > 0) chunks.push({file: next.chunk.file, start: got.start, end: got.end, docs: got.docs, chars: got.chars})
      if (params.signal?.aborted) throw new Interrupted('interrupted while reading the data source')
    }
    for (const chunk of nominal) {
      const result = pool.count(withPath(chunk, files))
      result.catch(() => {})
      inFlight.push({chunk, result})
      if (inFlight.length >= 4 * pool.size) await takeOne()
    }
    while (inFlight.length > 0) await takeOne()
    return {chunks, files, pool}
  } catch (error) {
    await pool.close()
    throw error
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

async function getTokenizer(params: PrepareDataParams & {sourceKey: Record<string, unknown>; scan: () => Promise<Corpus>}): Promise<TokenizerLike> {
  const t = params.options.tokenizer
  if ('from' in t) return params.tokenizers.load({from: t.from})
  // A trained tokenizer is cached under a key of everything it depends on, so a cache hit of
  // the shards never needs to read the corpus or retrain. (The sample bound is a constant: a
  // change to it must change `v`.)
  const tokKey = stableHash({v: 1, source: params.sourceKey, train: t.train, eval_fraction: params.options.eval_fraction, seed: params.seed})
  const root = path.join(params.cacheDir, 'tokenizers')
  const dir = path.join(root, tokKey)
  fs.mkdirSync(root, {recursive: true})
  removeStaleTmpDirs({dir: root})
  if (fs.existsSync(path.join(dir, '.complete')) && !params.force) return params.tokenizers.load({from: dir})
  const corpus = await params.scan()
  // train split only (eval text stays unseen); on a large corpus a seeded sample of it
  const keep = Math.min(1, (params.tokenizerSampleChars ?? TOKENIZER_SAMPLE_CHARS) / corpus.chars)
  const trainDocs = corpus.count - corpus.nEval
  params.log?.info(
    `data: training a ${t.train.type} tokenizer (vocab ${t.train.vocab_size}) on ${keep < 1 ? `a ${(keep * 100).toFixed(1)}% sample of the ` : ''}${trainDocs} train documents`,
  )
  const texts = async function* () {
    const rng = keep < 1 ? Rng.derive(params.seed, 'tokenizer-sample') : null
    let i = 0
    for await (const batch of corpus.batches()) {
      for (const d of batch) {
        if (!corpus.isEval[i++] && (rng === null || rng.uniform() < keep)) yield d
      }
    }
  }
  const tok = await params.tokenizers.train({
    texts: texts(),
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

/**
 * The tokenizing pass: documents in source order, tokenized in batches (on worker threads when
 * there are any, results taken in submission order), each document's ids packed into its split's
 * sequences and shards. Both splits are written in the one pass; each sees its documents in
 * source order, as when the splits were written one after the other.
 */
async function writeShards(
  params: PrepareDataParams & {
    dir: string
    tokenizerDir: string
    corpus: Corpus
    tokenizer: TokenizerLike
    counter: {docs: number; tokens: number; start: number}
  },
): Promise<{train: SplitManifest; eval: SplitManifest | null}> {
  const {options, tokenizer, counter, corpus} = params
  const split = (name: 'train' | 'eval') => {
    const writer = new ShardWriter({dir: params.dir, split: name, shardRows: options.shard_rows, maxLength: options.max_length})
    const packer = new SequencePacker({
      maxLength: options.max_length,
      mode: options.packing,
      cls: tokenizer.special.cls,
      sep: tokenizer.special.sep,
      emit: (seq) => writer.add(seq),
    })
    return {writer, packer}
  }
  const train = split('train')
  const evalSplit = corpus.nEval > 0 ? split('eval') : null
  const pool = await startPool(params)
  const bar = params.progress?.({label: 'tokenizing', total: corpus.count, unit: 'docs'})
  let doc = 0
  const take = (enc: EncodedDocuments) => {
    train.packer.addDocuments(enc.train.ids, enc.train.lengths)
    if (enc.eval.lengths.length > 0) evalSplit!.packer.addDocuments(enc.eval.ids, enc.eval.lengths)
    counter.tokens += enc.train.ids.length + enc.eval.ids.length
    counter.docs += enc.docs
    const secs = (performance.now() - counter.start) / 1000
    bar?.update(counter.docs, {tokens: counter.tokens, 'tokens/s': Math.round(counter.tokens / Math.max(secs, 1e-3))})
  }
  const interrupted = () => new Interrupted('interrupted while building data shards; the partial build was discarded')
  try {
    // at most two batches per worker in flight: bounded memory, and no worker waits
    const inFlight: {result: Promise<EncodedDocuments>; docs: number; file?: string}[] = []
    const takeOne = async () => {
      const next = inFlight.shift()!
      const enc = await next.result.catch((e: unknown) => {
        if (e instanceof ChunkInvalidUtf8) throw invalidUtf8Error({file: next.file!, offset: e.offset, byte: e.byte, cause: e})
        throw e
      })
      // a chunk read again must hold the documents counted in it
      if (enc.docs !== next.docs) throw sourceChanged(params)
      take(enc)
    }
    if (pool && corpus.chunked) {
      // the workers read their own chunks: this thread only packs and writes
      for (const chunk of corpus.chunked.chunks) {
        const file = corpus.chunked.files[chunk.file]
        const result = pool.encode({firstDoc: doc, chunk: withPath(chunk, corpus.chunked.files)})
        // awaited below in order; marked handled now so a batch still in flight when an error or
        // Ctrl-C closes the pool is not an unhandled rejection
        result.catch(() => {})
        inFlight.push({result, docs: chunk.docs, file})
        doc += chunk.docs
        if (inFlight.length >= 2 * pool.size) await takeOne()
        if (params.signal?.aborted) throw interrupted()
      }
    } else {
      for await (const batch of corpus.batches()) {
        for (let start = 0; start < batch.length; ) {
          let end = start
          let chars = 0
          while (end < batch.length && end - start < CHUNK_DOCS && chars < CHUNK_CHARS) chars += batch[end++].length
          const texts = batch.slice(start, end)
          start = end
          if (doc + texts.length > corpus.count) throw sourceChanged(params)
          if (pool) {
            const result = pool.encode({firstDoc: doc, texts})
            result.catch(() => {})
            inFlight.push({result, docs: texts.length})
            if (inFlight.length >= 2 * pool.size) await takeOne()
          } else {
            // yield to the event loop so Ctrl-C (the abort signal) can be seen between batches
            await new Promise((r) => setImmediate(r))
            take(encodeDocuments({encode: (t) => tokenizer.encode(t), texts, isEval: corpus.isEval, firstDoc: doc}))
          }
          doc += texts.length
          if (params.signal?.aborted) throw interrupted()
        }
      }
    }
    while (inFlight.length > 0) await takeOne()
    if (params.signal?.aborted) throw interrupted()
  } finally {
    bar?.stop()
    // the counting pass's workers are closed by prepareData
    if (pool && pool !== corpus.chunked?.pool) await pool.close()
  }
  if (doc !== corpus.count) throw sourceChanged(params)
  train.packer.finish()
  evalSplit?.packer.finish()
  return {train: train.writer.finish(corpus.count - corpus.nEval), eval: evalSplit ? evalSplit.writer.finish(corpus.nEval) : null}
}

/**
 * Worker threads for tokenizing (those that counted a .txt corpus, else new ones), or null to
 * tokenize here (test tokenizers, small corpora, `workers: 0`, or workers that cannot load it).
 */
async function startPool(params: PrepareDataParams & {tokenizerDir: string; corpus: Corpus; tokenizer: TokenizerLike}): Promise<TokenizePool | null> {
  const asked = params.options.workers
  const counted = params.corpus.chunked?.pool ?? null
  const workers = counted?.size ?? asked ?? (params.corpus.chars >= POOL_MIN_CHARS ? Math.min(8, os.availableParallelism()) : 0)
  // workers load the tokenizer from its saved folder with src/tokenizer: other implementations stay here
  if (workers < 1 || !(TOKENIZER_KINDS as readonly string[]).includes(params.tokenizer.kind)) return null
  let pool = counted
  if (!pool) {
    const got = await TokenizePool.start({workers})
    if (!got.pool) {
      params.log?.warn(`data: tokenizing on one thread: ${got.reason}`)
      return null
    }
    pool = got.pool
  }
  const problem = await pool.loadTokenizer({dir: params.tokenizerDir, fingerprint: params.tokenizer.fingerprint()})
  if (problem) {
    if (pool !== counted) await pool.close()
    params.log?.warn(`data: tokenizing on one thread: ${problem}`)
    return null
  }
  const isEval = params.corpus.isEval
  pool.shareMask(isEval.buffer instanceof SharedArrayBuffer ? isEval : copyToShared(isEval))
  params.log?.debug(`data: tokenizing on ${workers} worker thread${workers === 1 ? '' : 's'}${pool === counted ? ' (reading their own chunks of the text)' : ''}`)
  return pool
}

function copyToShared(a: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(a.length))
  out.set(a)
  return out
}

function sourceChanged(params: PrepareDataParams): RuntimeFailure {
  return new RuntimeFailure('the data source changed while it was being read (it has a different number of documents than a moment ago).', {
    code: 'data.source_changed',
    suggestions: ['Do not edit the source files during `rtd data build` / the data stage; run it again.'],
  })
}
