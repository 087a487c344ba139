import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {ShardEntry, SplitManifest} from './prepared-data.js'
import {encodeShard} from './shard-io.js'

/** Buffers sequences and writes `<split>-<nnnnn>.arrow` files of `shardRows` rows each. */
export class ShardWriter {
  private ids: Int32Array
  private offsets: Int32Array
  private rows = 0
  private used = 0
  private readonly shards: ShardEntry[] = []
  private totalTokens = 0
  private totalRows = 0

  constructor(private readonly params: {dir: string; split: string; shardRows: number; maxLength: number}) {
    this.ids = new Int32Array(params.shardRows * Math.min(params.maxLength, 256))
    this.offsets = new Int32Array(params.shardRows + 1)
  }

  add(seq: Int32Array): void {
    if (this.used + seq.length > this.ids.length) {
      const grown = new Int32Array(Math.max(this.ids.length * 2, this.used + seq.length))
      grown.set(this.ids.subarray(0, this.used))
      this.ids = grown
    }
    this.ids.set(seq, this.used)
    this.used += seq.length
    this.offsets[++this.rows] = this.used
    if (this.rows === this.params.shardRows) this.flush()
  }

  /** Write what is buffered; returns the split's manifest. */
  finish(documents: number): SplitManifest {
    if (this.rows > 0) this.flush()
    return {documents, sequences: this.totalRows, tokens: this.totalTokens, shards: this.shards}
  }

  private flush(): void {
    const file = `${this.params.split}-${String(this.shards.length).padStart(5, '0')}.arrow`
    const bytes = encodeShard({ids: this.ids.subarray(0, this.used), offsets: this.offsets.subarray(0, this.rows + 1)})
    fs.writeFileSync(path.join(this.params.dir, file), bytes)
    this.shards.push({file, rows: this.rows, tokens: this.used, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length})
    this.totalRows += this.rows
    this.totalTokens += this.used
    this.rows = 0
    this.used = 0
  }
}
