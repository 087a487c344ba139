/**
 * A real HTTP server (node:http on 127.0.0.1, random port) that serves the Hugging Face hub's
 * URL layout for a few in-memory repositories, for tests of anything that downloads from the hub.
 *
 *   const hub = await startHubServer({repos: [
 *     {repo: 'org/model', files: {'config.json': '{}', 'model.safetensors': buf}},
 *     {repo: 'org/data', type: 'dataset', files: {'plain_text/train-00000-of-00001.parquet': pq}},
 *     {repo: 'org/data', type: 'dataset', branches: ['refs/convert/parquet'], files: {'default/train/0000.parquet': pq}},
 *   ], token: 'hf_secret'})
 *   downloadRepoFiles({repo: 'org/model', endpoint: hub.url, token: 'hf_secret', cacheDir})
 *   hub.requests  // ['GET /api/models/org/model/revision/main', 'GET /org/model/resolve/<sha>/config.json', ...]
 *   await hub.close()
 *
 * Served, as the hub does:
 *   GET /api/{models|datasets}/{org}/{name}/revision/{revision}  -> {id, sha, siblings: [{rfilename}]}
 *       (revision: a branch of the entry, URL-encoded like refs%2Fconvert%2Fparquet, or its sha)
 *   GET|HEAD /{org}/{name}/resolve/{revision}/{path}, /datasets/{org}/{name}/resolve/{revision}/{path}
 *       regular files: 200 with ETag "<git blob sha1>", X-Repo-Commit, Content-Length
 *       LFS files (see `lfs`): 302 to /cdn/<sha256> with X-Linked-Etag "<sha256>", X-Linked-Size,
 *       X-Repo-Commit (set `redirectLfs: false` to answer 200 with ETag "<sha256>" instead)
 *   renamed repos (`renamed`): 307 with a relative Location under the new name (API and resolve)
 *   404 with X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound; 401 when `token` is set
 *   and the request lacks `Authorization: Bearer <token>` (the CDN path needs no token).
 * Fault injection: `hub.failNext(path, 'truncate' | 'corrupt' | 'status500')` makes the next
 * download of that repo path send half the bytes and drop the connection, send wrong bytes of
 * the right length, or answer 500.
 */
import {createHash, randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface HubServerRepo {
  /** "org/name". */
  repo: string
  /** Default `model`. */
  type?: 'model' | 'dataset'
  /** Commit sha of this revision. Default: random 40 hex digits. */
  sha?: string
  /** Branch names that point at this commit. Default ['main']. */
  branches?: string[]
  files: Record<string, Buffer | Uint8Array | string>
  /** Which files are served as LFS (sha256 ETag, redirect). Default: .bin .safetensors .parquet .arrow .model .h5. */
  lfs?: (path: string) => boolean
}

export interface HubServerOptions {
  repos: HubServerRepo[]
  /** When set, every hub request (not the CDN) must carry `Authorization: Bearer <token>`. */
  token?: string
  /** Answer LFS files with a 302 to a CDN path, like the real hub. Default true. */
  redirectLfs?: boolean
  /** Renamed repos, old "org/name" -> new: requests under the old name get a 307 to a relative URL under the new one. */
  renamed?: Record<string, string>
}

export type FaultMode = 'truncate' | 'corrupt' | 'status500'

export interface HubServer {
  /** Base URL, e.g. http://127.0.0.1:43117: pass as `endpoint` / HF_ENDPOINT. */
  url: string
  /** "METHOD path" of every request, in order. */
  requests: string[]
  /** The Authorization header of every request, in order (undefined when absent). */
  authorizations: (string | undefined)[]
  /** The repos as served, with their shas filled in. */
  repos: (HubServerRepo & {sha: string})[]
  failNext(path: string, mode: FaultMode): void
  close(): Promise<void>
}

const DEFAULT_LFS = (p: string): boolean => /\.(bin|safetensors|parquet|arrow|model|h5)$/.test(p)

const gitBlobSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex')
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

export async function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const repos = opts.repos.map((r) => ({...r, sha: r.sha ?? randomBytes(20).toString('hex')}))
  const requests: string[] = []
  const authorizations: (string | undefined)[] = []
  const faults = new Map<string, FaultMode>()
  const blobs = new Map<string, Buffer>() // sha256 -> bytes, for the CDN path
  const redirectLfs = opts.redirectLfs ?? true

  const find = (type: string, repo: string, revision: string) => {
    const all = repos.filter((r) => (r.type ?? 'model') === type && r.repo === repo)
    if (all.length === 0) return {error: 'RepoNotFound' as const}
    const hit = all.find((r) => r.sha === revision || (r.branches ?? ['main']).includes(revision))
    return hit ? {repo: hit} : {error: 'RevisionNotFound' as const}
  }
  const notFound = (res: ServerResponse, code: string, msg: string): void => {
    res.writeHead(404, {'content-type': 'application/json', 'x-error-code': code, 'x-request-id': 'test-req'})
    res.end(JSON.stringify({error: msg}))
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://x')
    requests.push(`${method} ${url.pathname}`)
    authorizations.push(req.headers.authorization)
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)

    if (parts[0] === 'cdn' && parts.length === 2) {
      const b = blobs.get(parts[1])
      if (!b) return notFound(res, 'EntryNotFound', 'no such blob')
      return sendBytes(req, res, b, {etag: `"${parts[1]}"`}, faults.get(`cdn:${parts[1]}`), () => faults.delete(`cdn:${parts[1]}`))
    }
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, {'content-type': 'application/json', 'x-error-code': 'RepoNotFound'})
      return void res.end(JSON.stringify({error: 'Invalid credentials in Authorization header'}))
    }
    // a renamed repo: same path under the new name, as a relative redirect
    const isApi = parts[0] === 'api'
    const nameAt = isApi ? 2 : parts[0] === 'datasets' ? 1 : 0
    const oldName = `${parts[nameAt]}/${parts[nameAt + 1]}`
    const newName = opts.renamed?.[oldName]
    if (newName !== undefined) {
      const raw = (req.url ?? '/').split('/')
      const at = raw.indexOf(parts[nameAt])
      raw.splice(at, 2, ...newName.split('/'))
      res.writeHead(307, {location: raw.join('/')})
      return void res.end()
    }
    // /api/{models|datasets}/{org}/{name}/revision/{revision...}
    if (parts[0] === 'api' && (parts[1] === 'models' || parts[1] === 'datasets') && parts[4] === 'revision') {
      const type = parts[1] === 'models' ? 'model' : 'dataset'
      const found = find(type, `${parts[2]}/${parts[3]}`, parts.slice(5).join('/'))
      if (!found.repo) return notFound(res, found.error, `${type} ${parts[2]}/${parts[3]}: ${found.error}`)
      res.writeHead(200, {'content-type': 'application/json'})
      return void res.end(JSON.stringify({id: found.repo.repo, sha: found.repo.sha, siblings: Object.keys(found.repo.files).map((rfilename) => ({rfilename}))}))
    }
    // [/datasets]/{org}/{name}/resolve/{revision}/{path...}
    const isDataset = parts[0] === 'datasets'
    const p = isDataset ? parts.slice(1) : parts
    if (p[2] === 'resolve' && p.length >= 5) {
      const found = find(isDataset ? 'dataset' : 'model', `${p[0]}/${p[1]}`, p[3])
      if (!found.repo) return notFound(res, found.error, found.error)
      const path = p.slice(4).join('/')
      const content = found.repo.files[path]
      if (content === undefined) return notFound(res, 'EntryNotFound', `${path} not found`)
      const bytes = Buffer.from(content)
      const fault = faults.get(path)
      const consume = (): void => void faults.delete(path)
      if ((found.repo.lfs ?? DEFAULT_LFS)(path)) {
        const oid = sha256(bytes)
        const headers = {'x-repo-commit': found.repo.sha, 'x-linked-etag': `"${oid}"`, 'x-linked-size': String(bytes.length), etag: `"${gitBlobSha1(Buffer.from(`oid sha256:${oid}`))}"`}
        if (redirectLfs) {
          blobs.set(oid, bytes)
          if (fault) faults.set(`cdn:${oid}`, fault), consume()
          res.writeHead(302, {...headers, location: `/cdn/${oid}`})
          return void res.end()
        }
        return sendBytes(req, res, bytes, {...headers, etag: `"${oid}"`}, fault, consume)
      }
      return sendBytes(req, res, bytes, {'x-repo-commit': found.repo.sha, etag: `"${gitBlobSha1(bytes)}"`}, fault, consume)
    }
    notFound(res, 'NotFound', `no route for ${url.pathname}`)
  }

  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    authorizations,
    repos,
    failNext: (path, mode) => void faults.set(path, mode),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string>, fault: FaultMode | undefined, consume: () => void): void {
  if (fault === 'status500' && req.method !== 'HEAD') {
    consume()
    res.writeHead(500, {'content-type': 'text/plain'})
    return void res.end('internal error')
  }
  res.writeHead(200, {...headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length)})
  if (req.method === 'HEAD') return void res.end()
  if (fault === 'truncate') {
    consume()
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
    // drop the connection mid-body, like a network failure
    setTimeout(() => res.socket?.destroy(), 10)
    return
  }
  if (fault === 'corrupt') {
    consume()
    const bad = Buffer.from(bytes)
    bad[0] ^= 0xff
    return void res.end(bad)
  }
  res.end(bytes)
}
