/**
 * Parquet files of one split of a hub dataset, downloaded into the shared cache.
 * 1. The dataset's own files at `revision` (default main) when they are Parquet files laid out
 *    the way `datasets` finds splits: `<config>/<split>-NNNNN-of-NNNNN.parquet`,
 *    `<config>/<split>/*.parquet`, `data/<split>-*.parquet`, `<split>-*.parquet`
 *    (e.g. stanfordnlp/imdb: plain_text/unsupervised-00000-of-00001.parquet).
 * 2. Otherwise the hub's automatic conversion on the `refs/convert/parquet` branch:
 *    `<config>/<split>/NNNN.parquet` (or `<config>/partial-<split>/...` for huge datasets).
 * Offline, the same rules run over what the cache holds for that revision.
 */
import {RuntimeFailure} from '../errors.js'
import {type DownloadedRepo, downloadRepoFiles, type DownloadRepoFilesOptions, resolveRepoRevision} from './download-repo-files.js'

export const PARQUET_BRANCH = 'refs/convert/parquet'

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Patterns (most specific first) for a split's Parquet files in a repository's own layout. */
function splitPatterns(opts: {config?: string; split: string}): RegExp[] {
  const s = esc(opts.split)
  const c = opts.config === undefined ? '[^/]+' : esc(opts.config)
  return [
    new RegExp(`^${c}/${s}(-\\d{5}-of-\\d{5})?\\.parquet$`),
    new RegExp(`^${c}/${s}/[^/]+\\.parquet$`),
    new RegExp(`^${c}/partial-${s}/[^/]+\\.parquet$`),
    new RegExp(`^data/${s}(-[^/]*)?\\.parquet$`),
    new RegExp(`^${s}(-[^/]*)?\\.parquet$`),
  ]
}

/** The first pattern that matches anything wins, so a config's files never mix with another layout. */
export function pickSplitFiles(opts: {files: string[]; config?: string; split: string}): string[] {
  for (const re of splitPatterns(opts)) {
    const hit = opts.files.filter((f) => re.test(f)).sort()
    if (hit.length > 0) {
      // with no config named, refuse to mix configs silently
      const configs = new Set(hit.map((f) => f.split('/')[0]))
      if (opts.config === undefined && configs.size > 1 && !re.source.startsWith('^data/')) {
        throw new RuntimeFailure(`split ${opts.split} exists in several configs (${[...configs].join(', ')}); name one with \`config\``, {code: 'hub.ambiguous_config'})
      }
      return hit
    }
  }
  return []
}

export async function downloadDatasetParquet(
  opts: Omit<DownloadRepoFilesOptions, 'repoType' | 'files' | 'include'> & {
    /** Dataset config (subset) name; on the converted branch the default is `default`. */
    config?: string
    split: string
  },
): Promise<DownloadedRepo> {
  const {config, split} = opts
  const base = {...opts, repoType: 'dataset' as const}
  // offline, the main branch may be missing from the cache while the converted branch is there
  let ownError: unknown
  const own = await resolveRepoRevision({...base, revision: opts.revision ?? 'main'}).catch((error: unknown) => {
    if (error instanceof RuntimeFailure && error.code === 'hub.not_cached') return (ownError = error), undefined
    throw error
  })
  let files = own ? pickSplitFiles({files: own.available, config, split}) : []
  let revision = own?.sha ?? ''
  if (files.length === 0) {
    const converted = await resolveRepoRevision({...base, revision: PARQUET_BRANCH}).catch((error: unknown) => {
      if (error instanceof RuntimeFailure && (error.code === 'hub.not_found' || error.code === 'hub.not_cached')) return undefined
      throw error
    })
    files = converted ? pickSplitFiles({files: converted.available, config: config ?? 'default', split}) : []
    if (!converted || files.length === 0) {
      if (ownError) throw ownError
      throw new RuntimeFailure(
        `dataset ${opts.repo}: no Parquet files for ${config ? `config ${config}, ` : ''}split ${split} (looked at ${opts.revision ?? 'main'}${own?.fromCache ? ' in the cache' : ''} and ${PARQUET_BRANCH}); files at ${opts.revision ?? 'main'}: ${own?.available.slice(0, 20).join(', ') || '(none)'}`,
        {code: 'hub.no_split', suggestions: ['Check the split and config names on the dataset page', ...(own?.advice?.('') ?? [])]},
      )
    }
    revision = converted.sha
  }
  // by commit sha: the listing above already recorded refs/<branch>
  return downloadRepoFiles({...base, revision, files})
}
