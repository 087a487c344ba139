/**
 * Fetch files of a Hugging Face repository into the cache Python huggingface_hub shares
 * (see cache-layout.ts) and return the snapshot folder.
 *
 * Online: one API call resolves the revision to a commit and lists its files; files already in
 * the snapshot are not downloaded again; refs/<revision> is updated.
 * Offline (HF_HUB_OFFLINE=1), or when the hub cannot be reached: the revision is resolved from
 * refs/<revision> in the cache (@huggingface/hub 2.x would call the network here), and a file
 * missing from the cache is one clear error saying how to get it.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {RuntimeFailure} from '../errors.js'
import {COMMIT_SHA, listSnapshotFiles, repoCacheDir, resolveCachedRevision} from './cache-layout.js'
import {type DownloadProgress, downloadFileToCache} from './download-file-to-cache.js'
import {type FetchLike, HubHttpError} from './hub-request.js'
import {type HubSettingsOptions, type RepoType, resolveHubSettings} from './hub-settings.js'
import {listRepoFiles} from './list-repo-files.js'

export interface DownloadRepoFilesOptions extends HubSettingsOptions {
  /** "org/name". */
  repo: string
  /** Default `model`. */
  repoType?: RepoType
  /** Branch, tag or commit sha. Default `main`. */
  revision?: string
  /** Exact paths to fetch; each must exist in the repository. Default: every file (after `include`). */
  files?: string[]
  /** Keep only the paths this accepts. */
  include?: (path: string) => boolean
  /** Injected fetch (tests, proxies). Default global fetch. */
  fetch?: FetchLike
  onProgress?: (p: DownloadProgress) => void
  /** Parallel downloads. Default 4. */
  concurrency?: number
  /**
   * Check only (rtd run's pre-flight): resolve the revision (the hub's answer, e.g. a 401, or
   * the cache offline) and check the files are there, but download nothing.
   */
  checkOnly?: boolean
}

export interface DownloadedRepo {
  /** <cache>/<type>s--org--name/snapshots/<sha>: read files from here. */
  snapshotDir: string
  /** The commit sha. */
  revision: string
  /** The files fetched or found, relative to snapshotDir. */
  files: string[]
  /** True when the revision was resolved from the cache without the network. */
  fromCache: boolean
}

export interface ResolvedRevision {
  repoDir: string
  /** The commit sha. */
  sha: string
  /** Files of the commit: the hub's listing online, the cached files offline. */
  available: string[]
  fromCache: boolean
  /** Offline only: why the cache had to answer, and what to do when a file is missing. */
  why?: string
  advice?: (what: string) => string[]
  networkError?: unknown
}

/**
 * Resolve a revision to a commit: from the hub (and record refs/<revision>), or from the cache
 * when offline or when the hub cannot be reached. Hub answers such as 404 or 401 are errors.
 */
export async function resolveRepoRevision(opts: Omit<DownloadRepoFilesOptions, 'files' | 'include' | 'onProgress' | 'concurrency' | 'checkOnly'>): Promise<ResolvedRevision> {
  const settings = resolveHubSettings(opts)
  const repoType = opts.repoType ?? 'model'
  const revision = opts.revision ?? 'main'
  const repoDir = repoCacheDir({cacheDir: settings.cacheDir, repo: opts.repo, repoType})
  const label = `${repoType} ${opts.repo}@${revision}`
  let networkError: unknown
  if (!settings.offline) {
    try {
      const online = await listRepoFiles({repo: opts.repo, repoType, revision, endpoint: settings.endpoint, token: settings.token, fetch: opts.fetch})
      if (revision !== online.sha) writeRef({repoDir, revision, sha: online.sha})
      return {repoDir, sha: online.sha, available: online.files, fromCache: false}
    } catch (error) {
      // a hub answer (404, 401 ...) is final; only an unreachable hub falls back to the cache
      if (error instanceof HubHttpError && error.status < 500) throw error
      networkError = error
    }
  }
  const why = settings.offline ? 'HF_HUB_OFFLINE is set' : `the hub could not be reached (${(networkError as Error)?.message ?? String(networkError)})`
  const advice = (what: string): string[] => [
    ...(settings.offline ? ['Unset HF_HUB_OFFLINE (or set it to 0) to download it'] : ['Check the network connection or HF_ENDPOINT']),
    `Or fetch it beforehand where the hub is reachable: huggingface-cli download ${repoType === 'dataset' ? '--repo-type dataset ' : ''}${opts.repo} ${what}--revision ${revision}, with HF_HUB_CACHE pointing at ${settings.cacheDir}`,
  ]
  const sha = resolveCachedRevision({repoDir, revision})
  if (!sha) {
    throw new RuntimeFailure(`${label} is not in the Hugging Face cache (${repoDir}) and ${why}`, {code: 'hub.not_cached', suggestions: advice(''), cause: networkError})
  }
  const available = listSnapshotFiles({snapshotDir: join(repoDir, 'snapshots', sha)})
  return {repoDir, sha, available, fromCache: true, why, advice, networkError}
}

export async function downloadRepoFiles(opts: DownloadRepoFilesOptions): Promise<DownloadedRepo> {
  const settings = resolveHubSettings(opts)
  const repoType = opts.repoType ?? 'model'
  const label = `${repoType} ${opts.repo}@${opts.revision ?? 'main'}`
  const r = await resolveRepoRevision(opts)
  const snapshotDir = join(r.repoDir, 'snapshots', r.sha)

  if (!r.fromCache) {
    const wanted = selectFiles({available: r.available, files: opts.files, include: opts.include, label})
    if (opts.checkOnly) return {snapshotDir, revision: r.sha, files: wanted, fromCache: false}
    await runPool(wanted, opts.concurrency ?? 4, (path) =>
      downloadFileToCache({repoDir: r.repoDir, endpoint: settings.endpoint, token: settings.token, repo: opts.repo, repoType, sha: r.sha, path, fetch: opts.fetch, onProgress: opts.onProgress}),
    )
    return {snapshotDir, revision: r.sha, files: wanted, fromCache: false}
  }

  // offline, or the hub is unreachable: the cache alone must answer
  let files: string[]
  if (opts.files) {
    const missing = opts.files.filter((f) => !existsSync(join(snapshotDir, ...f.split('/'))))
    if (missing.length > 0) {
      throw new RuntimeFailure(`${label}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the Hugging Face cache (${snapshotDir}) and ${r.why}`, {
        code: 'hub.not_cached',
        suggestions: r.advice!(`${missing.join(' ')} `),
        cause: r.networkError,
      })
    }
    files = opts.files.filter((f) => !opts.include || opts.include(f))
  } else {
    files = r.available.filter((f) => !opts.include || opts.include(f))
    if (files.length === 0) throw new RuntimeFailure(`${label}: no matching files in the Hugging Face cache (${snapshotDir}) and ${r.why}`, {code: 'hub.not_cached', suggestions: r.advice!(''), cause: r.networkError})
  }
  for (const f of files) opts.onProgress?.({file: f, bytes: 0, done: true, cached: true})
  return {snapshotDir, revision: r.sha, files, fromCache: true}
}

function selectFiles(opts: {available: string[]; files?: string[]; include?: (p: string) => boolean; label: string}): string[] {
  const {available, files, include} = opts
  if (files) {
    const set = new Set(available)
    const missing = files.filter((f) => !set.has(f))
    if (missing.length > 0) {
      throw new RuntimeFailure(`${opts.label} has no file ${missing.join(', ')}; it has: ${available.slice(0, 40).join(', ')}${available.length > 40 ? ', ...' : ''}`, {code: 'hub.no_such_file'})
    }
  }
  return (files ?? available).filter((f) => !include || include(f))
}

/** refs/<revision> holds the commit; written atomically (a reader never sees a half sha). */
function writeRef(opts: {repoDir: string; revision: string; sha: string}): void {
  if (COMMIT_SHA.test(opts.revision)) return
  const ref = join(opts.repoDir, 'refs', ...opts.revision.split('/'))
  mkdirSync(dirname(ref), {recursive: true})
  const tmp = `${ref}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, opts.sha)
  renameSync(tmp, ref)
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(concurrency, items.length)}, worker))
}
