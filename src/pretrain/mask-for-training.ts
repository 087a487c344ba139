/** Dynamic masking of a training or evaluation batch with a model plugin's `mask` options (SPEC A.4). */
import type {Batch} from '../data/batch-iterator.js'
import {maskBatch, type MaskedBatch, type MaskRecipe} from '../data/masking.js'
import type {SpecialTokenIds} from '../data/prepared-data.js'
import type {Rng} from '../util/rng.js'

export interface MaskOptions {
  rate: number
  recipe: MaskRecipe
}

export function maskForTraining(opts: {batch: Batch; special: SpecialTokenIds; tokenizerVocabSize: number; mask: MaskOptions; rng: Rng}): MaskedBatch {
  const {batch, mask} = opts
  return maskBatch({
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    batchSize: batch.batchSize,
    seqLen: batch.seqLen,
    special: opts.special,
    vocabSize: opts.tokenizerVocabSize,
    recipe: mask.recipe,
    rate: mask.rate,
    rng: opts.rng,
  })
}

/** The arguments RtdPair.lossFn and MlmModel.lossFn share for a masked batch ([B·N] arrays). */
export function maskedBatchInputs(batch: Batch, masked: MaskedBatch) {
  return {
    inputIds: batch.inputIds,
    maskedInputIds: masked.maskedIds,
    attentionMask: batch.attentionMask,
    mlmMask: masked.mlmMask,
    batch: batch.batchSize,
    seqLen: batch.seqLen,
  }
}

/** Non-pad tokens of a batch (for tokens/s). */
export function tokenCount(batch: Batch): number {
  let tokens = 0
  for (let k = 0; k < batch.attentionMask.length; k++) tokens += batch.attentionMask[k]
  return tokens
}
