/** The trainer's BatchSource over a data split (src/data ShardSet + BatchIterator). */
import {BatchIterator, type Batch, type BatchPosition} from '../data/batch-iterator.js'
import type {ShardSet} from '../data/shard-set.js'
import type {BatchSource, BatchIterator as TrainerIterator} from '../train/trainable.js'

export function shardBatchSource(opts: {shards: ShardSet; batchSize: number; seed: number; maxLength: number; padId: number}): BatchSource<Batch> {
  const make = (position: BatchPosition) =>
    new BatchIterator({shards: opts.shards, batchSize: opts.batchSize, seed: opts.seed, maxLength: opts.maxLength, padId: opts.padId, epochs: position.epoch + 1, position})
  const probe = make({epoch: 0, index: 0})
  return {
    batchesPerEpoch: probe.batchesPerEpoch,
    open({epoch, position}): TrainerIterator<Batch> {
      const it = make((position as BatchPosition | undefined) ?? {epoch, index: 0})
      return {next: () => it.next(), position: () => it.position}
    },
  }
}
