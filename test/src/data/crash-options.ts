import type {DataOptions} from '../../../src/data/prepare-data.js'

/** Options shared by the crash-safety test and its child process (same options = same cache key). */
export function buildOptions(): DataOptions {
  return {
    source: {files: 'corpus.txt'},
    tokenizer: {train: {type: 'wordpiece', vocab_size: 500}},
    max_length: 16,
    packing: 'pack',
    eval_fraction: 0.1,
    shard_rows: 20,
  }
}
