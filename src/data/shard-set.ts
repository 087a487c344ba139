import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {RuntimeFailure} from '../errors.js'
import type {ShardEntry, SplitManifest} from './prepared-data.js'
import {decodeShard, type ShardRows} from './shard-io.js'

/**
 * The sequences of one split (train or eval), addressed by a global row index across its
 * shard files. Shards are read on first use and kept in memory; each file's sha256 is checked
 * against the manifest when it is read, so a damaged cache is reported rather than trained on.
 */
export class ShardSet {
  readonly dir: string
  readonly split: string
  readonly shards: readonly ShardEntry[]
  /** Number of sequences. */
  readonly rows: number
  /** Sum of sequence lengths. */
  readonly tokens: number
  /** [shards + 1] first global row of each shard. */
  private readonly starts: Int32Array
  private readonly loaded: (ShardRows | undefined)[]

  constructor(params: {dir: string; split: string; manifest: SplitManifest}) {
    this.dir = params.dir
    this.split = params.split
    this.shards = params.manifest.shards
    this.starts = new Int32Array(this.shards.length + 1)
    for (let i = 0; i < this.shards.length; i++) this.starts[i + 1] = this.starts[i] + this.shards[i].rows
    this.rows = this.starts[this.shards.length]
    this.tokens = this.shards.reduce((s, e) => s + e.tokens, 0)
    this.loaded = new Array(this.shards.length)
  }

  /** Token ids of row `index` ([CLS] ... [SEP], unpadded). A view: do not modify. */
  row(index: number): Int32Array {
    if (!(index >= 0 && index < this.rows)) throw new RangeError(`row ${index} is outside ${this.split} (0..${this.rows - 1})`)
    const s = this.shardOf(index)
    const r = this.load(s)
    const i = index - this.starts[s]
    return r.ids.subarray(r.offsets[i], r.offsets[i + 1])
  }

  /** Length of every row, [rows] (reads all shards). */
  lengths(): Int32Array {
    const out = new Int32Array(this.rows)
    for (let s = 0; s < this.shards.length; s++) {
      const r = this.load(s)
      for (let i = 0; i < this.shards[s].rows; i++) out[this.starts[s] + i] = r.offsets[i + 1] - r.offsets[i]
    }
    return out
  }

  private shardOf(index: number): number {
    // binary search over starts: largest s with starts[s] <= index
    let lo = 0
    let hi = this.shards.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.starts[mid] <= index) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  private load(s: number): ShardRows {
    const have = this.loaded[s]
    if (have) return have
    const entry = this.shards[s]
    const file = path.join(this.dir, entry.file)
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(file)
    } catch (error) {
      throw new RuntimeFailure(`shard ${file} is missing: ${(error as Error).message}`, {
        code: 'data.shard_missing',
        suggestions: ['Delete the shard directory (or run `rtd data build --force`) to rebuild it.'],
      })
    }
    const sha = createHash('sha256').update(bytes).digest('hex')
    if (sha !== entry.sha256) {
      throw new RuntimeFailure(`shard ${file} does not match its manifest hash (file changed or damaged).`, {
        code: 'data.shard_corrupt',
        suggestions: ['Delete the shard directory (or run `rtd data build --force`) to rebuild it.'],
      })
    }
    const rows = decodeShard({bytes, file})
    if (rows.offsets.length - 1 !== entry.rows) {
      throw new RuntimeFailure(`shard ${file} has ${rows.offsets.length - 1} rows, its manifest says ${entry.rows}.`, {code: 'data.shard_corrupt'})
    }
    this.loaded[s] = rows
    return rows
  }
}
