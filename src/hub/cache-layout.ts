/**
 * The cache layout Python huggingface_hub uses (huggingface_hub/file_download.py), so both share
 * one cache:
 *   <cache>/<models|datasets>--<org>--<name>/
 *     blobs/<etag>                      file contents, named by ETag (sha256 for LFS files, git sha1 otherwise)
 *     snapshots/<commit sha>/<path>     relative symlink to ../../blobs/<etag>
 *     refs/<revision>                   a file holding the commit sha the revision pointed to
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {RepoType} from './hub-settings.js'

export function repoCacheDir(opts: {cacheDir: string; repo: string; repoType: RepoType}): string {
  return join(opts.cacheDir, `${opts.repoType}s--${opts.repo.split('/').join('--')}`)
}

export const COMMIT_SHA = /^[0-9a-f]{40}$/

/** The commit a revision points to according to the cache, or undefined. */
export function resolveCachedRevision(opts: {repoDir: string; revision: string}): string | undefined {
  const {repoDir, revision} = opts
  if (COMMIT_SHA.test(revision) && existsSync(join(repoDir, 'snapshots', revision))) return revision
  const ref = join(repoDir, 'refs', revision)
  if (!existsSync(ref) || !statSync(ref).isFile()) return undefined
  const sha = readFileSync(ref, 'utf8').trim()
  return COMMIT_SHA.test(sha) ? sha : undefined
}

/** Paths (relative, '/'-separated) of the files present in a snapshot whose blobs exist. */
export function listSnapshotFiles(opts: {snapshotDir: string}): string[] {
  const out: string[] = []
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name
      const abs = join(dir, e.name)
      if (e.isDirectory()) walk(abs, rel)
      else if (existsSync(abs)) out.push(rel) // existsSync follows the symlink: a dangling link is not a file
    }
  }
  if (existsSync(opts.snapshotDir)) walk(opts.snapshotDir, '')
  return out.sort()
}
