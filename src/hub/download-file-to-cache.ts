/**
 * Download one file of a repository commit into the shared cache (layout in cache-layout.ts).
 * Crash safety: bytes go to blobs/<etag>.incomplete-<pid>-<rand>, are checked (length, and
 * sha256 when the ETag is one, as for LFS files), and only then renamed to blobs/<etag>; the
 * snapshot symlink is created last. A killed or failed download therefore never leaves a blob
 * or a link that a later run would trust.
 */
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, renameSync, rmSync, symlinkSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {RuntimeFailure} from '../errors.js'
import {authHeaders, type FetchLike, httpError, resolveUrl} from './hub-request.js'
import type {RepoType} from './hub-settings.js'

export interface DownloadProgress {
  /** Path of the file inside the repository. */
  file: string
  bytes: number
  /** Total bytes when the server said. */
  total?: number
  done: boolean
  /** True when the file was already in the cache. */
  cached?: boolean
}

const SHA256_HEX = /^[0-9a-f]{64}$/

/** Python's _normalize_etag: drop a weak-validator prefix and the quotes. */
function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined
}

export async function downloadFileToCache(opts: {
  repoDir: string
  endpoint: string
  token?: string
  repo: string
  repoType: RepoType
  /** Commit sha (the snapshot folder name). */
  sha: string
  path: string
  fetch?: FetchLike
  onProgress?: (p: DownloadProgress) => void
}): Promise<string> {
  const {repoDir, path, sha} = opts
  const doFetch = opts.fetch ?? fetch
  const snapshotPath = join(repoDir, 'snapshots', sha, ...path.split('/'))
  if (existsSync(snapshotPath)) {
    opts.onProgress?.({file: path, bytes: 0, done: true, cached: true})
    return snapshotPath
  }
  const url = resolveUrl({endpoint: opts.endpoint, repo: opts.repo, repoType: opts.repoType, revision: sha, path})
  // Do not follow redirects blindly: the hub answers LFS files with a 302 to a CDN, and the
  // ETag/size that name the blob are on that first answer. The token goes to the hub only.
  // identity encoding: sizes and hashes are of the stored bytes (as huggingface_hub asks too)
  const plain = {'accept-encoding': 'identity'}
  // Same-origin redirects (a renamed repo) are followed by hand, with the token; the first
  // answer that names the blob (X-Linked-Etag / ETag) wins. A redirect to another origin (the
  // CDN) is followed without the token.
  const origin = new URL(url).origin
  let target = new URL(url)
  let etag: string | undefined
  let linkedSize: string | null = null
  let res: Response | undefined
  for (let hop = 0; ; hop++) {
    const same = target.origin === origin
    res = await doFetch(target, {headers: {...plain, ...(same ? authHeaders(opts.token) : {})}, redirect: same ? 'manual' : 'follow'})
    const redirect = res.status >= 300 && res.status < 400
    if (!res.ok && !redirect) throw await httpError(res, target.toString(), `downloading ${path} from ${opts.repo}@${sha}`)
    etag ??= normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'))
    linkedSize ??= res.headers.get('x-linked-size')
    if (!redirect) break
    const location = res.headers.get('location')
    if (!location || hop >= 5) throw new RuntimeFailure(`${target}: ${location ? 'too many redirects' : 'redirect without a Location header'}`, {code: 'hub.bad_answer'})
    await res.body?.cancel()
    target = new URL(location, target)
  }
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity'
  const lengthHeader = linkedSize ?? (encoded ? null : res.headers.get('content-length'))
  const total = lengthHeader === null ? undefined : Number(lengthHeader)

  const blobsDir = join(repoDir, 'blobs')
  mkdirSync(blobsDir, {recursive: true})
  let blobName = etag
  if (blobName && existsSync(join(blobsDir, blobName))) {
    await res.body?.cancel() // same content already cached under another path or commit
  } else {
    const tmp = join(blobsDir, `${blobName ?? 'unnamed'}.incomplete-${process.pid}-${randomBytes(4).toString('hex')}`)
    const hash = createHash('sha256')
    let bytes = 0
    const fh = await open(tmp, 'w')
    try {
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk)
          await fh.write(chunk)
          bytes += chunk.byteLength
          opts.onProgress?.({file: path, bytes, total, done: false})
        }
      }
      await fh.close()
      if (total !== undefined && bytes !== total) throw new RuntimeFailure(`downloading ${path} from ${opts.repo}: got ${bytes} of ${total} bytes`, {code: 'hub.incomplete', suggestions: ['Run the command again; the partial file was discarded']})
      const digest = hash.digest('hex')
      if (blobName && SHA256_HEX.test(blobName) && digest !== blobName) throw new RuntimeFailure(`downloading ${path} from ${opts.repo}: sha256 ${digest} does not match the ETag ${blobName}`, {code: 'hub.checksum', suggestions: ['Run the command again; the corrupt file was discarded']})
      blobName ??= digest
      renameSync(tmp, join(blobsDir, blobName))
    } catch (error) {
      await fh.close().catch(() => undefined)
      rmSync(tmp, {force: true})
      if (error instanceof RuntimeFailure) throw error
      throw new RuntimeFailure(`downloading ${path} from ${opts.repo} failed: ${(error as Error).message}`, {code: 'hub.incomplete', cause: error, suggestions: ['Run the command again; the partial file was discarded']})
    }
  }
  // relative link, as Python writes it, so the cache can be moved
  mkdirSync(dirname(snapshotPath), {recursive: true})
  const link = `${snapshotPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  symlinkSync(relative(dirname(snapshotPath), join(blobsDir, blobName!)), link)
  renameSync(link, snapshotPath)
  opts.onProgress?.({file: path, bytes: total ?? 0, total, done: true})
  return snapshotPath
}
