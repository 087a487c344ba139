/**
 * The labelled data of a fine-tuning task: train / validation / test sources (hub dataset
 * splits with a label column, local jsonl/json/csv/tsv/parquet/arrow files, or an npm package)
 * -> class names and indices -> the encoder's tokenizer -> [CLS] ... [SEP] rows cut to
 * max_length (counted) -> one Arrow file per split, cached under
 * `<cacheDir>/labelled/<key>/` where key = hash(source content, tokenizer fingerprint, every
 * option that changes the rows, seed). A split missing from the options is carved out of the
 * train rows with the seed (test first, then validation), no row in two splits.
 *
 * Bad labels stop here with what and where: a label never seen in train (or not among the
 * `labels` given) in validation/test, missing labels (unless `missing_labels: drop`, then they
 * are dropped and counted), a train split with one class.
 */
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ConfigError, Interrupted} from '../../errors.js'
import type {Logger} from '../../util/run-io.js'
import {commitTmpDir, removeStaleTmpDirs, tmpPathFor} from '../cache-dir.js'
import {expandFiles} from '../expand-files.js'
import {hashFiles} from '../hash-files.js'
import {downloadHubSplit, type HubOptions} from '../hub-dataset.js'
import type {TokenizerLike} from '../prepared-data.js'
import {splitDocuments} from '../split-documents.js'
import {stableHash} from '../stable-hash.js'
import {labelIndex, labelSet, type LabelSet} from './label-index.js'
import {labelledPackageFiles, readLabelledPackage} from './labelled-package.js'
import {decodeLabelledShard, encodeLabelledShard, type LabelledSplit} from './labelled-shard.js'
import {readLabelledFile, type LabelledFormat, type LabelledRows, type RawLabel} from './read-labelled-file.js'

export interface LabelledSource {
  hub?: string
  config?: string
  split?: string
  revision?: string
  files?: string | string[]
  format?: LabelledFormat
  package?: string
}

export const MISSING_LABEL_MODES = ['error', 'drop'] as const
export type MissingLabelMode = (typeof MISSING_LABEL_MODES)[number]

/** The `data` section of a classification task (plugins/classification/schema.json has the defaults). */
export interface LabelledDataOptions {
  train: LabelledSource
  validation?: LabelledSource
  test?: LabelledSource
  text_column: string
  label_column: string
  /** Class names in index order; default from the dataset's features or the train split. */
  labels?: string[]
  /** Tokens per row, [CLS] and [SEP] included; longer texts are cut (and counted). */
  max_length: number
  /** Held out of train for early stopping when there is no validation source. */
  validation_fraction: number
  /** Held out of train for the final scores when there is no test source (0: no test split). */
  test_fraction: number
  /** Keep at most this many train rows (a seeded sample), after the splits are made. */
  max_train_examples?: number
  missing_labels: MissingLabelMode
}

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const
export type SplitName = (typeof SPLIT_NAMES)[number]

export interface SplitStats {
  rows: number
  /** Sum of row lengths, [CLS]/[SEP] included. */
  tokens: number
  /** Rows whose text was longer than max_length and was cut. */
  truncated: number
  /** Rows dropped for a missing label (missing_labels: drop). */
  dropped: number
  /** Rows per class, in class order. */
  perClass: number[]
}

export interface LabelledManifest {
  version: number
  key: string
  labels: string[]
  labelOrigin: LabelSet['origin']
  maxLength: number
  splits: Partial<Record<SplitName, SplitStats & {file: string; sha256: string}>>
  sources: Record<string, string>
}

export interface LabelledData {
  dir: string
  labels: string[]
  maxLength: number
  train: LabelledSplit
  validation: LabelledSplit
  test: LabelledSplit | null
  manifest: LabelledManifest
  cacheHit: boolean
}

const VERSION = 1

interface ResolvedSource {
  description: string
  fingerprint: Record<string, unknown>
  read(): Promise<LabelledRows>
}

export async function prepareLabelledData(p: {
  options: LabelledDataOptions
  tokenizer: TokenizerLike
  cacheDir: string
  seed: number
  resolvePath: (x: string) => string
  hub?: HubOptions
  log?: Logger
  signal?: AbortSignal
}): Promise<LabelledData> {
  const o = p.options
  checkOptions(o)
  const sources: Partial<Record<SplitName, ResolvedSource>> = {}
  for (const split of SPLIT_NAMES) {
    const s = o[split]
    if (s !== undefined) sources[split] = await resolveLabelledSource({source: s, split, resolvePath: p.resolvePath, cacheDir: p.cacheDir, hub: p.hub, options: o})
  }
  const key = stableHash({
    v: VERSION,
    sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v!.fingerprint])),
    tokenizer: p.tokenizer.fingerprint(),
    text_column: o.text_column,
    label_column: o.label_column,
    labels: o.labels ?? null,
    max_length: o.max_length,
    validation_fraction: o.validation_fraction,
    test_fraction: o.test_fraction,
    max_train_examples: o.max_train_examples ?? null,
    missing_labels: o.missing_labels,
    seed: p.seed,
  })
  const root = path.join(p.cacheDir, 'labelled')
  const dir = path.join(root, key)
  fs.mkdirSync(root, {recursive: true})
  removeStaleTmpDirs({dir: root})
  const cached = readCached(dir)
  if (cached) {
    p.log?.info(`finetune data: cache hit ${dir}`)
    return cached
  }

  const rows: Partial<Record<SplitName, LabelledRows>> = {}
  for (const [split, s] of Object.entries(sources) as [SplitName, ResolvedSource][]) {
    if (p.signal?.aborted) throw new Interrupted('interrupted while reading labelled data')
    p.log?.info(`finetune data: reading ${split} from ${s.description}`)
    rows[split] = await s.read()
    if (rows[split]!.texts.length === 0) throw new ConfigError(`the ${split} source ${s.description} has no rows.`, {code: 'data.source_empty'})
  }
  const set = labelSet({option: o.labels, features: rows.train!.labelNames, train: rows.train!.labels})
  const byName = new Map(set.names.map((n, i) => [n, i]))
  const indexed = Object.fromEntries(
    (Object.entries(rows) as [SplitName, LabelledRows][]).map(([split, r]) => [split, indexLabels({rows: r, labelColumn: o.label_column, split, set, byName, mode: o.missing_labels, description: sources[split]!.description})]),
  ) as Partial<Record<SplitName, Indexed>>

  // splits the options do not give are carved out of train, seeded, test first
  const parts = carveSplits({train: indexed.train!, validation: indexed.validation, test: indexed.test, options: o, seed: p.seed})
  checkClasses({train: parts.train!, set, description: sources.train!.description})

  const tmp = tmpPathFor(dir)
  fs.rmSync(tmp, {recursive: true, force: true})
  fs.mkdirSync(tmp, {recursive: true})
  try {
    const manifest: LabelledManifest = {
      version: VERSION,
      key,
      labels: set.names,
      labelOrigin: set.origin,
      maxLength: o.max_length,
      splits: {},
      sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v!.description])),
    }
    for (const split of SPLIT_NAMES) {
      const part = parts[split]
      if (!part) continue
      if (p.signal?.aborted) throw new Interrupted('interrupted while tokenizing labelled data')
      const {shard, stats} = tokenizeSplit({part, tokenizer: p.tokenizer, maxLength: o.max_length, classes: set.names.length})
      const bytes = encodeLabelledShard(shard)
      const file = `${split}.arrow`
      fs.writeFileSync(path.join(tmp, file), bytes)
      manifest.splits[split] = {...stats, dropped: part.dropped, file, sha256: createHash('sha256').update(bytes).digest('hex')}
    }
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2))
    commitTmpDir({tmp, final: dir})
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
  return {...readCached(dir)!, cacheHit: false}
}

function checkOptions(o: LabelledDataOptions): void {
  if (!Number.isInteger(o.max_length) || o.max_length < 3) throw new ConfigError(`data.max_length must be an integer >= 3 (room for [CLS] x [SEP]), got ${o.max_length}.`, {code: 'data.max_length'})
  if (o.validation === undefined && !(o.validation_fraction > 0 && o.validation_fraction < 1)) {
    throw new ConfigError(`data.validation_fraction must be in (0, 1) when there is no validation source, got ${o.validation_fraction}.`, {
      code: 'data.validation_fraction',
      suggestions: ['Give `data.validation` or a validation_fraction such as 0.1: early stopping needs held-out rows.'],
    })
  }
  if (!(o.test_fraction >= 0 && o.test_fraction < 1)) throw new ConfigError(`data.test_fraction must be in [0, 1), got ${o.test_fraction}.`, {code: 'data.test_fraction'})
}

async function resolveLabelledSource(p: {source: LabelledSource; split: SplitName; resolvePath: (x: string) => string; cacheDir: string; hub?: HubOptions; options: LabelledDataOptions}): Promise<ResolvedSource> {
  const {source, options: o} = p
  const readFiles = async (files: string[], format: LabelledFormat): Promise<LabelledRows> => {
    const parts = []
    for (const file of files) parts.push(await readLabelledFile({file, format, textColumn: o.text_column, labelColumn: o.label_column}))
    return concatRows(parts)
  }
  if (source.hub !== undefined) {
    const split = source.split ?? p.split
    const got = await downloadHubSplit({hub: p.hub, repo: source.hub, config: source.config, split, revision: source.revision})
    const files = got.files.map((f) => path.join(got.dir, f))
    return {
      description: `${source.hub}@${got.revision.slice(0, 10)} ${source.config ? source.config + '/' : ''}${split}`,
      fingerprint: {hub: source.hub, revision: got.revision, files: got.files, split, config: source.config ?? null},
      read: () => readFiles(files, 'parquet'),
    }
  }
  if (source.files !== undefined) {
    const files = expandFiles({patterns: source.files, resolvePath: p.resolvePath})
    return {
      description: Array.isArray(source.files) ? source.files.join(', ') : source.files,
      fingerprint: {files: hashFiles({files, cacheDir: p.cacheDir}), format: source.format ?? 'auto'},
      read: () => readFiles(files, source.format ?? 'auto'),
    }
  }
  if (source.package !== undefined) {
    const files = labelledPackageFiles({name: source.package})
    return {
      description: `npm package ${source.package} (${files.length} files)`,
      fingerprint: {package: source.package, files: files.length, first: path.basename(files[0] ?? ''), last: path.basename(files.at(-1) ?? '')},
      read: async () => readLabelledPackage({name: source.package!, files}),
    }
  }
  throw new ConfigError(`data.${p.split} needs one of \`hub\`, \`files\` or \`package\`.`, {code: 'data.source_invalid'})
}

function concatRows(parts: LabelledRows[]): LabelledRows {
  if (parts.length === 1) return parts[0]
  const starts: number[] = []
  let n = 0
  for (const r of parts) {
    starts.push(n)
    n += r.texts.length
  }
  const partOf = (i: number) => {
    let k = parts.length - 1
    while (starts[k] > i) k--
    return k
  }
  const names = parts.map((r) => r.labelNames).find((x) => x !== undefined)
  return {
    texts: parts.flatMap((r) => r.texts),
    labels: parts.flatMap((r) => r.labels),
    where: (i) => {
      const k = partOf(i)
      return parts[k].where(i - starts[k])
    },
    ...(names ? {labelNames: names} : {}),
  }
}

interface Indexed {
  texts: string[]
  labels: Int32Array
  dropped: number
}

function describe(v: RawLabel): string {
  return typeof v === 'string' ? `"${v}"` : String(v)
}

function indexLabels(p: {rows: LabelledRows; labelColumn: string; split: SplitName; set: LabelSet; byName: Map<string, number>; mode: MissingLabelMode; description: string}): Indexed {
  const {rows, set} = p
  const texts: string[] = []
  const labels: number[] = []
  const missing: number[] = []
  const unseen = new Map<string, {count: number; first: number; raw: RawLabel}>()
  for (let i = 0; i < rows.texts.length; i++) {
    const c = labelIndex(rows.labels[i], set, p.byName)
    if (c === null) {
      missing.push(i)
      continue
    }
    if (c === -2) {
      const k = String(rows.labels[i])
      const u = unseen.get(k) ?? {count: 0, first: i, raw: rows.labels[i]}
      u.count++
      unseen.set(k, u)
      continue
    }
    texts.push(rows.texts[i])
    labels.push(c)
  }
  if (unseen.size > 0) {
    const list = [...unseen.values()].slice(0, 5).map((u) => `${describe(u.raw)} (${u.count} row${u.count === 1 ? '' : 's'}, first at ${rows.where(u.first)})`)
    const known = set.origin === 'train split' ? `the labels of the train split` : set.origin === 'features' ? `the dataset's ClassLabel names` : `data.labels`
    throw new ConfigError(`the ${p.split} split (${p.description}) has label${unseen.size === 1 ? '' : 's'} not in ${known} [${set.names.join(', ')}]: ${list.join('; ')}.`, {
      code: 'data.unseen_label',
      suggestions: ['List every class in `data.labels` (in index order), or fix the labels of those rows.'],
    })
  }
  if (missing.length > 0 && p.mode === 'error') {
    const where = missing.slice(0, 3).map((i) => rows.where(i))
    throw new ConfigError(`the ${p.split} split (${p.description}) has ${missing.length} row${missing.length === 1 ? '' : 's'} without a label in column "${p.labelColumn}" (first: ${where.join('; ')}).`, {
      code: 'data.missing_label',
      suggestions: ['Check `data.label_column`; set `data.missing_labels: drop` to leave those rows out (they are counted in the report).'],
    })
  }
  return {texts, labels: Int32Array.from(labels), dropped: missing.length}
}

function pick(x: Indexed, idx: Int32Array): Indexed {
  return {texts: Array.from(idx, (i) => x.texts[i]), labels: Int32Array.from(idx, (i) => x.labels[i]), dropped: 0}
}

function carveSplits(p: {train: Indexed; validation?: Indexed; test?: Indexed; options: LabelledDataOptions; seed: number}): Partial<Record<SplitName, Indexed>> {
  let train = p.train
  let test = p.test
  if (!test && p.options.test_fraction > 0) {
    const s = splitDocuments({count: train.texts.length, evalFraction: p.options.test_fraction, seed: p.seed + 1})
    test = pick(train, s.eval)
    train = {...pick(train, s.train), dropped: train.dropped}
  }
  let validation = p.validation
  if (!validation) {
    const s = splitDocuments({count: train.texts.length, evalFraction: p.options.validation_fraction, seed: p.seed})
    validation = pick(train, s.eval)
    train = {...pick(train, s.train), dropped: train.dropped}
  }
  const max = p.options.max_train_examples
  if (max !== undefined && train.texts.length > max) {
    const s = splitDocuments({count: train.texts.length, evalFraction: 1 - max / train.texts.length, seed: p.seed + 2})
    train = {...pick(train, s.train), dropped: train.dropped}
  }
  return {train, validation, ...(test ? {test} : {})}
}

function checkClasses(p: {train: Indexed; set: LabelSet; description: string}): void {
  const counts = new Array(p.set.names.length).fill(0)
  for (const c of p.train.labels) counts[c]++
  const present = counts.filter((c) => c > 0).length
  if (p.train.labels.length === 0) throw new ConfigError(`the train split (${p.description}) has no labelled rows.`, {code: 'data.source_empty'})
  if (present < 2) {
    const only = p.set.names[counts.findIndex((c) => c > 0)]
    throw new ConfigError(`the train split (${p.description}) has a single class ("${only}", ${p.train.labels.length} rows): a classifier has nothing to tell apart.`, {
      code: 'data.single_class',
      suggestions: ['Check `data.label_column` and the source; classification needs at least two classes in train.'],
    })
  }
}

function tokenizeSplit(p: {part: Indexed; tokenizer: TokenizerLike; maxLength: number; classes: number}): {shard: LabelledSplit; stats: Omit<SplitStats, 'dropped'>} {
  const {cls, sep} = p.tokenizer.special
  const n = p.part.texts.length
  const offsets = new Int32Array(n + 1)
  const chunks: Int32Array[] = []
  let used = 0
  let truncated = 0
  const perClass = new Array(p.classes).fill(0)
  for (let i = 0; i < n; i++) {
    const ids = p.tokenizer.encode(p.part.texts[i])
    const keep = Math.min(ids.length, p.maxLength - 2)
    if (keep < ids.length) truncated++
    const row = new Int32Array(keep + 2)
    row[0] = cls
    row.set(ids.subarray(0, keep), 1)
    row[keep + 1] = sep
    chunks.push(row)
    used += row.length
    offsets[i + 1] = used
    perClass[p.part.labels[i]]++
  }
  const ids = new Int32Array(used)
  let pos = 0
  for (const c of chunks) {
    ids.set(c, pos)
    pos += c.length
  }
  return {shard: {ids, offsets, labels: p.part.labels}, stats: {rows: n, tokens: used, truncated, perClass}}
}

function readCached(dir: string): LabelledData | null {
  const file = path.join(dir, 'manifest.json')
  if (!fs.existsSync(file)) return null
  let m: LabelledManifest
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as LabelledManifest
  } catch {
    return null
  }
  if (m.version !== VERSION) return null
  const load = (split: SplitName): LabelledSplit | null => {
    const s = m.splits[split]
    if (!s) return null
    const f = path.join(dir, s.file)
    return decodeLabelledShard({bytes: fs.readFileSync(f), file: f})
  }
  return {dir, labels: m.labels, maxLength: m.maxLength, train: load('train')!, validation: load('validation')!, test: load('test'), manifest: m, cacheHit: true}
}
