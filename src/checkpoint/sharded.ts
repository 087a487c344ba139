/**
 * Sharded checkpoints: `model.safetensors.index.json` / `pytorch_model.bin.index.json`
 * ({metadata: {total_size}, weight_map: {tensor name: shard file}}), as written by
 * transformers' save_pretrained(max_shard_size=...). Each shard is loaded once and checked
 * against the index.
 */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {RuntimeFailure} from '../errors.js'
import {readPytorchBin} from './pytorch-bin.js'
import {type HostTensor, readSafetensors} from './safetensors.js'

/** The index file as found on disk (wire format). */
export interface ShardIndexJson {
  metadata?: Record<string, unknown>
  weight_map: Record<string, string>
}

export function readShardIndex(opts: {indexFile: string}): ShardIndexJson {
  const {indexFile} = opts
  let json: unknown
  try {
    json = JSON.parse(readFileSync(indexFile, 'utf8'))
  } catch (error) {
    throw new RuntimeFailure(`${indexFile}: not readable JSON`, {code: 'checkpoint.index_invalid', cause: error})
  }
  const wm = (json as ShardIndexJson | null)?.weight_map
  if (!wm || typeof wm !== 'object' || Object.values(wm).some((v) => typeof v !== 'string')) {
    throw new RuntimeFailure(`${indexFile}: expected {"weight_map": {tensor name: shard file}}`, {code: 'checkpoint.index_invalid'})
  }
  return json as ShardIndexJson
}

/** Load every shard named by an index file; returns the tensors and the shard paths in order. */
export function loadShardedCheckpoint(opts: {indexFile: string}): {tensors: Map<string, HostTensor>; files: string[]} {
  const {indexFile} = opts
  const index = readShardIndex({indexFile})
  const dir = dirname(indexFile)
  const shards = [...new Set(Object.values(index.weight_map))]
  const tensors = new Map<string, HostTensor>()
  const origin = new Map<string, string>()
  const files: string[] = []
  for (const shard of shards) {
    if (shard.includes('..') || shard.startsWith('/')) throw new RuntimeFailure(`${indexFile}: shard path ${shard} leaves the folder`, {code: 'checkpoint.index_invalid'})
    const file = join(dir, shard)
    files.push(file)
    const got = shard.endsWith('.safetensors') ? readSafetensors(file).tensors : readPytorchBin({file}).tensors
    for (const [name, t] of got) {
      if (tensors.has(name)) throw new RuntimeFailure(`${file}: tensor ${name} also appears in another shard`, {code: 'checkpoint.index_mismatch'})
      tensors.set(name, t)
      origin.set(name, shard)
    }
  }
  const missing = Object.entries(index.weight_map).filter(([name, shard]) => origin.get(name) !== shard)
  if (missing.length > 0) {
    throw new RuntimeFailure(`${indexFile}: ${missing.length} tensor(s) listed in weight_map are not in their shard: ${missing.slice(0, 20).map(([n, s]) => `${n} (${s})`).join(', ')}`, {code: 'checkpoint.index_mismatch'})
  }
  return {tensors, files}
}
