import * as path from 'node:path'
import {ConfigError, Interrupted} from '../errors.js'
import {expandFiles} from './expand-files.js'
import {hashFiles} from './hash-files.js'
import {downloadHubSplit, type HubOptions} from './hub-dataset.js'
import {corpusPackageFiles} from './nlp-corpus.js'
import type {FileFormat, TxtMode} from './prepared-data.js'
import {documentBatches} from './read-documents-file.js'

export interface HubSource {
  /** Dataset repo id, e.g. `stanfordnlp/imdb`. */
  hub: string
  config?: string
  split?: string
  column?: string
  revision?: string
}

export interface FilesSource {
  /** A path, a glob, or a list of them (relative to the pipeline file). */
  files: string | string[]
  format?: FileFormat
  column?: string
  txt_mode?: TxtMode
}

export interface PackageSource {
  package: string
}

export type SourceOptions = HubSource | FilesSource | PackageSource

export interface SourceDocuments {
  documents: string[]
  /** Identifies the source content for the cache key: content hashes or a dataset revision. */
  fingerprint: Record<string, unknown>
  /** One line for logs. */
  description: string
}

/**
 * Files and their content hashes, without reading documents. Used for the cache key before
 * any parsing, so a cache hit costs only hashing (and that is memoised by size+mtime+inode).
 */
export interface ResolvedSource {
  files: string[]
  format: FileFormat
  column: string
  txtMode: TxtMode
  fingerprint: Record<string, unknown>
  description: string
}

export async function resolveSource(params: {
  source: SourceOptions
  resolvePath: (p: string) => string
  cacheDir?: string
  hub?: HubOptions
}): Promise<ResolvedSource> {
  const {source} = params
  if ('hub' in source) {
    const split = source.split ?? 'train'
    const got = await downloadHubSplit({
      hub: params.hub,
      repo: source.hub,
      config: source.config,
      split,
      revision: source.revision,
    })
    const files = got.files.map((f) => path.join(got.dir, f))
    return {
      files,
      format: 'parquet',
      column: source.column ?? 'text',
      txtMode: 'line',
      // a commit sha pins the content; file names make a different split a different key
      fingerprint: {hub: source.hub, revision: got.revision, files: got.files, split, config: source.config ?? null},
      description: `${source.hub}@${got.revision.slice(0, 10)} ${source.config ? source.config + '/' : ''}${split} (${files.length} parquet files)`,
    }
  }
  if ('files' in source) {
    const files = expandFiles({patterns: source.files, resolvePath: params.resolvePath})
    const hashes = hashFiles({files, cacheDir: params.cacheDir})
    return {
      files,
      format: source.format ?? 'auto',
      column: source.column ?? 'text',
      txtMode: source.txt_mode ?? 'line',
      fingerprint: {files: hashes},
      description: `${files.length} file${files.length === 1 ? '' : 's'} (${describePatterns(source.files)})`,
    }
  }
  if ('package' in source) {
    const files = corpusPackageFiles({name: source.package})
    return {
      files,
      format: 'json',
      column: 'text',
      txtMode: 'line',
      fingerprint: {package: source.package, files: hashFiles({files, cacheDir: params.cacheDir})},
      description: `npm package ${source.package} (${files.length} files)`,
    }
  }
  throw new ConfigError(`data.source needs one of \`hub\`, \`files\` or \`package\`; got keys ${Object.keys(source as object).join(', ') || '(none)'}.`, {
    code: 'data.source_invalid',
  })
}

function describePatterns(p: string | string[]): string {
  return Array.isArray(p) ? p.join(', ') : p
}

/** Every document of the resolved files, in file order (all in memory: for small sources and tests). */
export async function readSourceDocuments(params: {
  files: string[]
  format: FileFormat
  column: string
  txtMode: TxtMode
  description: string
  signal?: AbortSignal
}): Promise<string[]> {
  const documents: string[] = []
  for await (const batch of sourceDocumentBatches(params)) for (const d of batch) documents.push(d)
  if (documents.length === 0) {
    throw new ConfigError(`the data source ${params.description} has no documents (every file is empty or whitespace).`, {
      code: 'data.source_empty',
      suggestions: ['Point `data.source` at files with text; for .txt check `txt_mode` (line or block).'],
    })
  }
  return documents
}

/** The documents of the resolved files in file order, a batch at a time (see documentBatches). */
export async function* sourceDocumentBatches(params: {
  files: string[]
  format: FileFormat
  column: string
  txtMode: TxtMode
  signal?: AbortSignal
}): AsyncGenerator<string[]> {
  for (const file of params.files) {
    for await (const batch of documentBatches({file, format: params.format, column: params.column, txtMode: params.txtMode})) {
      if (params.signal?.aborted) throw new Interrupted('interrupted while reading the data source')
      if (batch.length > 0) yield batch
    }
  }
}
