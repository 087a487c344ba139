/**
 * One shard = one Arrow IPC file with two columns:
 *   input_ids: List<Int32>  token ids of each sequence, [CLS] ... [SEP], unpadded
 *   length:    Int32        number of ids in the row (= list length; kept for quick stats)
 * Arrays are handed to Arrow without copying (values + offsets), and read back the same way.
 */
import {Field, Int32, List, Table, makeData, makeVector, tableFromIPC, tableToIPC} from 'apache-arrow'
import {RuntimeFailure} from '../errors.js'

export interface ShardRows {
  /** Concatenated ids of every row. */
  ids: Int32Array
  /** [rows + 1] start of each row in `ids`. */
  offsets: Int32Array
}

export function encodeShard(rows: ShardRows): Uint8Array {
  const n = rows.offsets.length - 1
  const child = makeData({type: new Int32(), length: rows.ids.length, nullCount: 0, data: rows.ids})
  const listType = new List(new Field('item', new Int32(), false))
  const list = makeData({type: listType, length: n, nullCount: 0, valueOffsets: rows.offsets, child})
  const lengths = new Int32Array(n)
  for (let i = 0; i < n; i++) lengths[i] = rows.offsets[i + 1] - rows.offsets[i]
  const table = new Table({input_ids: makeVector(list), length: makeVector(lengths)})
  return tableToIPC(table, 'file')
}

export function decodeShard(params: {bytes: Uint8Array; file: string}): ShardRows {
  let table
  try {
    table = tableFromIPC(params.bytes)
  } catch (error) {
    throw corrupt(params.file, (error as Error).message)
  }
  const col = table.getChild('input_ids')
  if (!col) throw corrupt(params.file, 'no input_ids column')
  const rows = col.length
  const ids = new Int32Array(sum(col))
  const offsets = new Int32Array(rows + 1)
  // a table may hold several record batches; stitch them into one flat array
  let pos = 0
  let row = 0
  for (const data of col.data) {
    const vo = data.valueOffsets as Int32Array
    const values = data.children[0].values as Int32Array
    for (let i = 0; i < data.length; i++) {
      const a = vo[i]
      const b = vo[i + 1]
      ids.set(values.subarray(a, b), pos)
      offsets[row++] = pos
      pos += b - a
    }
  }
  offsets[row] = pos
  return {ids, offsets}
}

function sum(col: {data: readonly {length: number; valueOffsets: unknown}[]}): number {
  let s = 0
  for (const d of col.data) {
    const vo = d.valueOffsets as Int32Array
    s += vo[d.length] - vo[0]
  }
  return s
}

function corrupt(file: string, why: string): RuntimeFailure {
  return new RuntimeFailure(`shard ${file} is unreadable (${why}).`, {
    code: 'data.shard_corrupt',
    suggestions: ['Delete the shard directory (or run `rtd data build --force`) to rebuild it.'],
  })
}
