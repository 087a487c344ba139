/**
 * Batches of token ids from a ShardSet, with a seeded shuffle per epoch.
 *
 * Epoch e visits every row once in the order Rng.derive(seed, 'shuffle', e).shuffle(0..rows-1)
 * (or in file order with shuffle: false). The position {epoch, index} counts rows consumed in
 * the epoch; it is plain JSON, saved in checkpoints, and a new iterator created from it resumes
 * with exactly the next batch: the permutation is recomputed from the seed and rows are read by
 * index, so nothing before the position is read again.
 *
 * Padding: rows are right-padded with [PAD] (attention 0) to the longest row of the batch
 * (`padTo: 'longest'`, default: less work on short last chunks and truncated documents) or
 * always to maxLength (`padTo: 'max_length'`: one shape for every step).
 * The last partial batch of an epoch is kept (default) or dropped (`dropLast: true`).
 */
import {Rng} from '../util/rng.js'
import type {ShardSet} from './shard-set.js'

export const PAD_TO = ['longest', 'max_length'] as const
export type PadTo = (typeof PAD_TO)[number]

export interface BatchPosition {
  epoch: number
  /** Rows of this epoch already yielded. */
  index: number
}

export interface Batch {
  /** [B * N] */
  inputIds: Int32Array
  /** [B * N] 1 = token, 0 = padding */
  attentionMask: Int32Array
  batchSize: number
  seqLen: number
  /** Where this batch starts. */
  position: BatchPosition
}

export interface BatchIteratorParams {
  shards: ShardSet
  batchSize: number
  seed: number
  /** Sequence length of the shards (pads to this with padTo 'max_length'). */
  maxLength: number
  /** Default 0 ([PAD] of DeBERTa-v3). */
  padId?: number
  /** Default true. */
  shuffle?: boolean
  /** Default false: the last, smaller batch of an epoch is yielded. */
  dropLast?: boolean
  /** Default 'longest'. */
  padTo?: PadTo
  /** Stop after this many epochs (next() returns null). Default: never. */
  epochs?: number
  /** Resume here (from a checkpoint). Default {epoch: 0, index: 0}. */
  position?: BatchPosition
}

export class BatchIterator {
  private readonly p: Required<Omit<BatchIteratorParams, 'position'>>
  private pos: BatchPosition
  private order: Int32Array | null = null
  private orderEpoch = -1

  constructor(params: BatchIteratorParams) {
    if (!(Number.isInteger(params.batchSize) && params.batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${params.batchSize}`)
    if (params.shards.rows === 0) throw new RangeError(`the ${params.shards.split} split has no rows`)
    this.p = {padId: 0, shuffle: true, dropLast: false, padTo: 'longest', epochs: Infinity, ...params}
    const pos = params.position ?? {epoch: 0, index: 0}
    if (!(Number.isInteger(pos.epoch) && pos.epoch >= 0 && Number.isInteger(pos.index) && pos.index >= 0 && pos.index <= params.shards.rows)) {
      throw new RangeError(`batch position ${JSON.stringify(pos)} does not fit the ${params.shards.split} split (${params.shards.rows} rows)`)
    }
    this.pos = {...pos}
  }

  /** Where the next batch starts (save this in checkpoints). */
  get position(): BatchPosition {
    return {...this.pos}
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    const n = this.p.shards.rows / this.p.batchSize
    return this.p.dropLast ? Math.floor(n) : Math.ceil(n)
  }

  /** The next batch, or null after the last epoch. */
  next(): Batch | null {
    const {shards, batchSize} = this.p
    let rest = shards.rows - this.pos.index
    if (rest === 0 || (this.p.dropLast && rest < batchSize)) {
      this.pos = {epoch: this.pos.epoch + 1, index: 0}
      rest = shards.rows
      if (this.p.dropLast && rest < batchSize) return null
    }
    if (this.pos.epoch >= this.p.epochs) return null
    const order = this.epochOrder(this.pos.epoch)
    const B = Math.min(batchSize, rest)
    const rows: Int32Array[] = new Array(B)
    let longest = 0
    for (let i = 0; i < B; i++) {
      rows[i] = shards.row(order[this.pos.index + i])
      if (rows[i].length > longest) longest = rows[i].length
    }
    const N = this.p.padTo === 'max_length' ? this.p.maxLength : longest
    const inputIds = new Int32Array(B * N)
    const attentionMask = new Int32Array(B * N)
    if (this.p.padId !== 0) inputIds.fill(this.p.padId)
    for (let i = 0; i < B; i++) {
      const r = rows[i].length > N ? rows[i].subarray(0, N) : rows[i]
      inputIds.set(r, i * N)
      attentionMask.fill(1, i * N, i * N + r.length)
    }
    const position = {...this.pos}
    this.pos = {epoch: this.pos.epoch, index: this.pos.index + B}
    return {inputIds, attentionMask, batchSize: B, seqLen: N, position}
  }

  private epochOrder(epoch: number): Int32Array {
    if (this.orderEpoch === epoch && this.order) return this.order
    const order = new Int32Array(this.p.shards.rows)
    for (let i = 0; i < order.length; i++) order[i] = i
    if (this.p.shuffle) Rng.derive(this.p.seed, 'shuffle', epoch).shuffle(order)
    this.order = order
    this.orderEpoch = epoch
    return order
  }
}
