/**
 * What the data stage hands the rest of the pipeline (`state.data`), and the shapes it is
 * built from. The tokenizer type is the subset of src/tokenizer's Tokenizer the data stage
 * uses, so this module does not depend on how tokenizers are implemented.
 */
import type {ShardSet} from './shard-set.js'

/** Special token ids (SPEC A.10: DeBERTa-v3 [PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3, [MASK]=128000). */
export interface SpecialTokenIds {
  pad: number
  cls: number
  sep: number
  unk: number
  mask: number
}

/** The part of src/tokenizer's Tokenizer that the data stage needs. */
export interface TokenizerLike {
  readonly kind: string
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  /** Token ids of `text`, without [CLS]/[SEP]. */
  encode(text: string): Int32Array
  decode(ids: ArrayLike<number>): string
  idToToken(id: number): string | undefined
  /** Stable hash of vocabulary, model and normalisation: part of the shard cache key. */
  fingerprint(): string
  save(dir: string): void | Promise<void>
}

/** Closed sets of data options (schema.json's enums are checked against these in tests). */
export const PACKING_MODES = ['pack', 'truncate'] as const
export type PackingMode = (typeof PACKING_MODES)[number]

export const TXT_MODES = ['line', 'block'] as const
export type TxtMode = (typeof TXT_MODES)[number]

export const FILE_FORMATS = ['auto', 'txt', 'jsonl', 'json', 'parquet', 'arrow'] as const
export type FileFormat = (typeof FILE_FORMATS)[number]

/** Tokenizer types src/tokenizer can train (schema.json lists the same; a test keeps them in sync). */
export {TRAINABLE_KINDS as TOKENIZER_TYPES} from '../tokenizer/train-tokenizer.js'
export type TokenizerType = (typeof import('../tokenizer/train-tokenizer.js').TRAINABLE_KINDS)[number]

/** Bumped whenever the shard layout or the build algorithm changes: old caches are then rebuilt. */
export const SHARD_FORMAT_VERSION = 1

/** One shard file as listed in manifest.json. */
export interface ShardEntry {
  /** File name inside the shard directory, e.g. `train-00000.arrow`. */
  file: string
  rows: number
  /** Sum of sequence lengths (with [CLS]/[SEP]). */
  tokens: number
  /** sha256 of the file's bytes (hex). */
  sha256: string
  /** File size; absent in manifests written before it was recorded (then the Arrow end marker is checked). */
  bytes?: number
}

export interface SplitManifest {
  documents: number
  sequences: number
  tokens: number
  shards: ShardEntry[]
}

/** manifest.json in a shard directory. */
export interface DataManifest {
  formatVersion: number
  /** The cache key (= the shard directory's name). */
  key: string
  /** What the key was computed from, for `rtd data inspect` and debugging. */
  keyInputs: Record<string, unknown>
  createdAt: string
  maxLength: number
  packing: PackingMode
  /** Directory (relative to the shard dir) holding the saved tokenizer. */
  tokenizerDir: string
  tokenizerFingerprint: string
  special: SpecialTokenIds
  vocabSize: number
  train: SplitManifest
  eval: SplitManifest | null
}

/** `state.data` after the data stage. */
export interface PreparedData {
  tokenizer: TokenizerLike
  /** Absolute path of the saved tokenizer (export copies it). */
  tokenizerDir: string
  /** Absolute path of the shard directory. */
  shardDir: string
  train: ShardSet
  eval: ShardSet | null
  maxLength: number
  manifest: DataManifest
  /** True when the shards came from the cache without rebuilding. */
  cacheHit: boolean
}
