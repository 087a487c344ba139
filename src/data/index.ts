/** Public surface of the data stage. */
export {
  FILE_FORMATS,
  PACKING_MODES,
  SHARD_FORMAT_VERSION,
  TOKENIZER_TYPES,
  TXT_MODES,
  type DataManifest,
  type PackingMode,
  type PreparedData,
  type ShardEntry,
  type SpecialTokenIds,
  type SplitManifest,
  type TokenizerLike,
} from './prepared-data.js'
export {ShardSet} from './shard-set.js'
export {BatchIterator, PAD_TO, type Batch, type BatchIteratorParams, type BatchPosition, type PadTo} from './batch-iterator.js'
export {maskBatch, MASK_RECIPES, type MaskBatchParams, type MaskedBatch, type MaskRecipe} from './masking.js'
export {prepareData, prepared, readManifest, type DataOptions, type PrepareDataParams, type TokenizerProvider} from './prepare-data.js'
export {defaultTokenizers} from './default-tokenizers.js'
export {inspectShards, type InspectResult} from './inspect-shards.js'
export {checkTokenizerFitsModel} from './check-tokenizer-fit.js'
export type {SourceOptions} from './read-source.js'
