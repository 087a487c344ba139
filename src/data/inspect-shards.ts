/** `rtd data inspect`: counts, a sequence-length histogram and decoded samples of a shard directory. */
import * as path from 'node:path'
import {ConfigError} from '../errors.js'
import {loadTokenizer} from '../tokenizer/index.js'
import {prepared, readManifest} from './prepare-data.js'
import type {ShardSet} from './shard-set.js'

export interface LengthBin {
  /** Inclusive bounds of sequence length. */
  from: number
  to: number
  count: number
}

export interface SplitSummary {
  documents: number
  sequences: number
  tokens: number
  shards: number
  meanLength: number
  histogram: LengthBin[]
}

export interface InspectResult {
  shardDir: string
  key: string
  createdAt: string
  maxLength: number
  packing: string
  tokenizer: {kind: string; vocabSize: number; special: Record<string, number>}
  train: SplitSummary
  eval: SplitSummary | null
  samples: {split: string; row: number; length: number; text: string}[]
}

export function inspectShards(params: {dir: string; samples?: number; bins?: number}): InspectResult {
  const dir = path.resolve(params.dir)
  const manifest = readManifest(dir)
  if (!manifest) {
    throw new ConfigError(`${params.dir} is not a shard directory (no manifest.json of format this rtd reads).`, {
      code: 'data.not_shards',
      suggestions: ['Pass a directory under <cache>/shards/ (`rtd data build` prints it).'],
    })
  }
  const tokenizer = loadTokenizer({path: path.join(dir, manifest.tokenizerDir)})
  const data = prepared({shardDir: dir, manifest, tokenizer, cacheHit: true})
  const bins = params.bins ?? 8
  const n = params.samples ?? 3
  const samples: InspectResult['samples'] = []
  for (const set of [data.train, data.eval]) {
    if (!set) continue
    for (let k = 0; k < Math.min(n, set.rows); k++) {
      // spread samples over the split
      const row = Math.floor((k * set.rows) / Math.min(n, set.rows))
      const ids = set.row(row)
      samples.push({split: set.split, row, length: ids.length, text: tokenizer.decode(ids)})
    }
  }
  return {
    shardDir: dir,
    key: manifest.key,
    createdAt: manifest.createdAt,
    maxLength: manifest.maxLength,
    packing: manifest.packing,
    tokenizer: {kind: tokenizer.kind, vocabSize: tokenizer.vocabSize, special: {...tokenizer.special}},
    train: summarize(data.train, manifest.train.documents, manifest.maxLength, bins),
    eval: data.eval ? summarize(data.eval, manifest.eval!.documents, manifest.maxLength, bins) : null,
    samples,
  }
}

function summarize(set: ShardSet, documents: number, maxLength: number, bins: number): SplitSummary {
  const lengths = set.lengths()
  const width = Math.ceil(maxLength / bins)
  const histogram: LengthBin[] = Array.from({length: Math.ceil(maxLength / width)}, (_, i) => ({
    from: i * width + 1,
    to: Math.min(maxLength, (i + 1) * width),
    count: 0,
  }))
  for (const len of lengths) histogram[Math.min(histogram.length - 1, Math.floor((len - 1) / width))].count++
  return {
    documents,
    sequences: set.rows,
    tokens: set.tokens,
    shards: set.shards.length,
    meanLength: set.rows ? set.tokens / set.rows : 0,
    histogram,
  }
}
