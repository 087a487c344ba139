import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

interface SidecarEntry {
  size: number
  mtimeMs: number
  ino: number
  sha256: string
}

/**
 * sha256 of each file's content. Hashing is what makes the cache key honest (size + mtime can
 * stay the same when content changes); the sidecar `<cacheDir>/file-hashes.json` only skips
 * re-hashing a file whose size, mtime and inode are all unchanged.
 */
export function hashFiles(params: {files: string[]; cacheDir?: string}): string[] {
  const sidecar = params.cacheDir ? path.join(params.cacheDir, 'file-hashes.json') : null
  let known: Record<string, SidecarEntry> = {}
  if (sidecar && fs.existsSync(sidecar)) {
    try {
      known = JSON.parse(fs.readFileSync(sidecar, 'utf8'))
    } catch {
      known = {} // a corrupt sidecar only costs re-hashing
    }
  }
  let changed = false
  const out = params.files.map((file) => {
    const st = fs.statSync(file)
    const k = known[file]
    if (k && k.size === st.size && k.mtimeMs === st.mtimeMs && k.ino === st.ino) return k.sha256
    const sha256 = sha256File(file)
    known[file] = {size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256}
    changed = true
    return sha256
  })
  if (sidecar && changed) {
    fs.mkdirSync(path.dirname(sidecar), {recursive: true})
    const tmp = `${sidecar}.tmp-${process.pid}`
    fs.writeFileSync(tmp, JSON.stringify(known))
    fs.renameSync(tmp, sidecar)
  }
  return out
}

/** sha256 of a file, read 4 MiB at a time (a corpus file may be larger than memory). */
export function sha256File(file: string): string {
  const hash = createHash('sha256')
  const fd = fs.openSync(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(4 << 20)
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      hash.update(buf.subarray(0, n))
    }
  } finally {
    fs.closeSync(fd)
  }
  return hash.digest('hex')
}
