/**
 * One split of a labelled data set as one Arrow IPC file: `input_ids` List<Int32> ([CLS] ...
 * [SEP], unpadded, as the pretraining shards) and `label` Int32 (the class index).
 */
import {Field, Int32, List, Table, makeData, makeVector, tableFromIPC, tableToIPC} from 'apache-arrow'
import {RuntimeFailure} from '../../errors.js'
import {decodeShard} from '../shard-io.js'

export interface LabelledSplit {
  /** Concatenated ids of every row. */
  ids: Int32Array
  /** [rows + 1] start of each row in `ids`. */
  offsets: Int32Array
  /** [rows] class index of each row. */
  labels: Int32Array
}

export function encodeLabelledShard(s: LabelledSplit): Uint8Array {
  const n = s.labels.length
  const child = makeData({type: new Int32(), length: s.ids.length, nullCount: 0, data: s.ids})
  const list = makeData({type: new List(new Field('item', new Int32(), false)), length: n, nullCount: 0, valueOffsets: s.offsets, child})
  return tableToIPC(new Table({input_ids: makeVector(list), label: makeVector(s.labels)}), 'file')
}

export function decodeLabelledShard(p: {bytes: Uint8Array; file: string}): LabelledSplit {
  const {ids, offsets} = decodeShard(p)
  const col = tableFromIPC(p.bytes).getChild('label')
  if (!col || col.length !== offsets.length - 1) {
    throw new RuntimeFailure(`labelled shard ${p.file} has no label column of ${offsets.length - 1} rows.`, {
      code: 'data.shard_corrupt',
      suggestions: ['Delete the folder to rebuild it.'],
    })
  }
  return {ids, offsets, labels: Int32Array.from(col.toArray() as ArrayLike<number>)}
}
