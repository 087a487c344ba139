import * as fs from 'node:fs'
import * as path from 'node:path'
import {sha256File} from './hash-files.js'
import type {DataManifest, ShardEntry} from './prepared-data.js'

/** An Arrow IPC file ends with this magic; a truncated file does not. */
const ARROW_MAGIC = Buffer.from('ARROW1')

/**
 * What is wrong with a finished shard directory's files, by the manifest: a file missing, a size
 * other than the manifest's (or, for manifests written before sizes were recorded, no Arrow end
 * magic), and with `hash` a content sha256 other than the manifest's. Empty when all is well.
 * The size check costs one stat per shard, so every cache hit does it; hashing reads every byte.
 */
export function checkShardFiles(params: {shardDir: string; manifest: DataManifest; hash?: boolean}): string[] {
  const {shardDir, manifest} = params
  const problems: string[] = []
  const entries: ShardEntry[] = [...manifest.train.shards, ...(manifest.eval?.shards ?? [])]
  for (const e of entries) {
    const file = path.join(shardDir, e.file)
    let size: number
    try {
      size = fs.statSync(file).size
    } catch {
      problems.push(`${e.file} is missing`)
      continue
    }
    if (e.bytes !== undefined) {
      if (size !== e.bytes) {
        problems.push(`${e.file} has ${size} bytes, the manifest says ${e.bytes}`)
        continue
      }
    } else if (!endsWithArrowMagic(file, size)) {
      problems.push(`${e.file} is cut short (no Arrow end marker)`)
      continue
    }
    if (params.hash && sha256File(file) !== e.sha256) problems.push(`${e.file} does not match its manifest sha256`)
  }
  return problems
}

function endsWithArrowMagic(file: string, size: number): boolean {
  if (size < ARROW_MAGIC.length) return false
  const fd = fs.openSync(file, 'r')
  try {
    const tail = Buffer.alloc(ARROW_MAGIC.length)
    fs.readSync(fd, tail, 0, tail.length, size - tail.length)
    return tail.equals(ARROW_MAGIC)
  } finally {
    fs.closeSync(fd)
  }
}
