/**
 * HTTP plumbing shared by the hub functions: URL building, auth headers, and errors that say
 * what failed (status, URL, request id) and what to do about it.
 */
import {RuntimeFailure} from '../errors.js'
import type {RepoType} from './hub-settings.js'

export type FetchLike = typeof fetch

/** An HTTP answer from the hub that was not what we asked for. */
export class HubHttpError extends RuntimeFailure {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    opts: {code: string; suggestions?: string[]},
  ) {
    super(message, opts)
  }
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? {authorization: `Bearer ${token}`} : {}
}

export function revisionApiUrl(opts: {endpoint: string; repo: string; repoType: RepoType; revision: string}): string {
  return `${opts.endpoint}/api/${opts.repoType}s/${opts.repo}/revision/${encodeURIComponent(opts.revision)}`
}

export function resolveUrl(opts: {endpoint: string; repo: string; repoType: RepoType; revision: string; path: string}): string {
  const prefix = opts.repoType === 'dataset' ? 'datasets/' : ''
  const path = opts.path.split('/').map(encodeURIComponent).join('/')
  return `${opts.endpoint}/${prefix}${opts.repo}/resolve/${encodeURIComponent(opts.revision)}/${path}`
}

/** Turn a non-OK response into a HubHttpError with advice for the common statuses. */
export async function httpError(res: Response, url: string, what: string): Promise<HubHttpError> {
  const requestId = res.headers.get('x-request-id')
  const errorCode = res.headers.get('x-error-code')
  let detail = ''
  try {
    detail = (await res.text()).slice(0, 200)
  } catch {
    // body unreadable: the status says enough
  }
  const suggestions: string[] = []
  if (res.status === 401 || res.status === 403) suggestions.push('The repository may be private or gated: set HF_TOKEN to a token that has access (https://huggingface.co/settings/tokens)')
  if (res.status === 404) suggestions.push('Check the repository name, its type (model or dataset), the revision and the file path')
  return new HubHttpError(
    `${what} failed: HTTP ${res.status}${errorCode ? ` (${errorCode})` : ''}${detail ? `: ${detail.trim()}` : ''} [${url}${requestId ? `, request id ${requestId}` : ''}]`,
    res.status,
    url,
    {code: res.status === 404 ? 'hub.not_found' : res.status === 401 || res.status === 403 ? 'hub.unauthorized' : 'hub.http', suggestions},
  )
}
