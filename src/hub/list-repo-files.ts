/** Resolve a revision to its commit and list the repository's files: GET /api/{models|datasets}/{repo}/revision/{revision}. */
import {RuntimeFailure} from '../errors.js'
import {authHeaders, type FetchLike, httpError, revisionApiUrl} from './hub-request.js'
import {type HubSettingsOptions, type RepoType, resolveHubSettings} from './hub-settings.js'

/** The part of the hub's revision answer we use (wire format). */
interface ApiRevisionInfo {
  sha?: string
  siblings?: {rfilename: string}[]
}

export interface RepoRevision {
  /** The commit sha the revision points to. */
  sha: string
  /** Every file path in the repository at that commit. */
  files: string[]
}

export async function listRepoFiles(
  opts: {
    repo: string
    repoType?: RepoType
    /** Branch, tag or commit. Default `main`. */
    revision?: string
    fetch?: FetchLike
  } & Pick<HubSettingsOptions, 'endpoint' | 'token' | 'env'>,
): Promise<RepoRevision> {
  const {endpoint, token} = resolveHubSettings(opts)
  const url = revisionApiUrl({endpoint, repo: opts.repo, repoType: opts.repoType ?? 'model', revision: opts.revision ?? 'main'})
  const res = await (opts.fetch ?? fetch)(url, {headers: {...authHeaders(token), accept: 'application/json'}})
  if (!res.ok) throw await httpError(res, url, `listing ${opts.repoType ?? 'model'} ${opts.repo}@${opts.revision ?? 'main'}`)
  const info = (await res.json()) as ApiRevisionInfo
  if (typeof info.sha !== 'string' || !Array.isArray(info.siblings)) throw new RuntimeFailure(`${url}: unexpected answer (no sha or siblings)`, {code: 'hub.bad_answer'})
  return {sha: info.sha, files: info.siblings.map((s) => s.rfilename)}
}
