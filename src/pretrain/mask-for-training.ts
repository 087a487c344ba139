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
