/**
 * SPEC A.10: a tokenizer whose ids or sequence length do not fit the model is an error before
 * training starts, not an index error inside an embedding lookup. Reports every problem at once.
 */
import {ConfigError} from '../errors.js'
import type {SpecialTokenIds} from './prepared-data.js'

export function checkTokenizerFitsModel(params: {
  /** The tokenizer's vocabulary size (ids 0..tokenizerVocabSize-1 can occur). */
  tokenizerVocabSize: number
  special: SpecialTokenIds
  /** Rows of the model's word-embedding table (config vocab_size). */
  modelVocabSize: number
  /** Sequence length of the shards (data.max_length). */
  maxLength: number
  /** The model's max_position_embeddings. */
  maxPositions: number
  /** The model's pad_token_id (default 0). */
  padTokenId?: number
}): void {
  const p = params
  const issues: string[] = []
  if (p.tokenizerVocabSize > p.modelVocabSize) {
    issues.push(`the tokenizer has ${p.tokenizerVocabSize} ids but the model's vocab_size is ${p.modelVocabSize}: set model vocab_size >= ${p.tokenizerVocabSize}`)
  }
  for (const [role, id] of Object.entries(p.special)) {
    if (!(id >= 0 && id < p.modelVocabSize)) issues.push(`the tokenizer's [${role.toUpperCase()}] id ${id} is outside the model's vocabulary (0..${p.modelVocabSize - 1})`)
  }
  const pad = p.padTokenId ?? 0
  if (p.special.pad !== pad) issues.push(`the tokenizer's [PAD] id is ${p.special.pad} but the model's pad_token_id is ${pad}`)
  if (p.maxLength > p.maxPositions) issues.push(`data.max_length ${p.maxLength} exceeds the model's max_position_embeddings ${p.maxPositions}`)
  if (issues.length > 0) {
    throw new ConfigError(`the tokenizer and data do not fit the model:\n  - ${issues.join('\n  - ')}`, {
      code: 'data.model_mismatch',
      suggestions: ['Use the tokenizer the model was trained with, or a model config sized for this tokenizer.'],
    })
  }
}
