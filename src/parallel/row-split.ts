/**
 * Splitting a micro-batch's rows across data-parallel replicas: contiguous, as even as possible
 * (the first B mod W replicas get one row more). Replicas with no rows get none to compute.
 */
import type {Batch} from '../data/batch-iterator.js'
import type {MaskedBatch} from '../data/masking.js'

export interface RowRange {
  start: number
  end: number
}

export function splitRows(opts: {rows: number; parts: number}): RowRange[] {
  const {rows, parts} = opts
  const base = Math.floor(rows / parts)
  const extra = rows % parts
  const out: RowRange[] = []
  let start = 0
  for (let i = 0; i < parts; i++) {
    const n = base + (i < extra ? 1 : 0)
    out.push({start, end: start + n})
    start += n
  }
  return out
}

/** Rows [start, end) of a batch and of its masking. */
export function sliceRows(opts: {batch: Batch; masked: MaskedBatch; range: RowRange}): {batch: Batch; masked: MaskedBatch} {
  const {batch, masked, range} = opts
  const N = batch.seqLen
  const a = range.start * N
  const b = range.end * N
  return {
    batch: {inputIds: batch.inputIds.slice(a, b), attentionMask: batch.attentionMask.slice(a, b), batchSize: range.end - range.start, seqLen: N, position: batch.position},
    masked: {maskedIds: masked.maskedIds.slice(a, b), mlmMask: masked.mlmMask.slice(a, b), labels: masked.labels.slice(a, b)},
  }
}

/** Non-zero entries of a 0/1 array. */
export function countOnes(a: Int32Array | Uint8Array): number {
  let n = 0
  for (let k = 0; k < a.length; k++) if (a[k]) n++
  return n
}
