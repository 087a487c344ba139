/**
 * Dynamic masking for the generator's input (SPEC A.4, B.7.1).
 *
 * Candidates: positions with attentionMask = 1 whose id is not [PAD], [CLS], [SEP], [UNK] or
 * [MASK] (the official v3 candidate rule). Per sequence with at least one candidate, exactly
 * budget = min(#candidates, max(1, round(rate * #candidates))) positions are selected uniformly
 * without replacement. Deviation from the official NGramMaskGenerator (B.7.1), as SPEC allows:
 * the budget counts candidates rather than all tokens incl. [CLS]/[SEP] (0.15·N vs 0.15·(N+2)),
 * there is no max_preds cap, and selection is uniform rather than window-stratified, so late
 * positions of long lines are masked as often as early ones.
 *
 * Recipes, applied to each selected position:
 *   all-mask  every selected token -> [MASK] (DeBERTaV3 default)
 *   80-10-10  80% [MASK], 10% a random regular id (never a special id), 10% unchanged (BERT)
 *   electra   85% [MASK], 15% unchanged
 * Seeded per step: the caller passes Rng.derive(seed, 'mask', step, ...), so a resumed run
 * draws the same masks as an uninterrupted one.
 */
import type {MaskRecipe} from '../config/enums.js'
import type {Rng} from '../util/rng.js'
import type {SpecialTokenIds} from './prepared-data.js'

export {MASK_RECIPES, type MaskRecipe} from '../config/enums.js'

export interface MaskBatchParams {
  /** [B * N] */
  inputIds: Int32Array
  /** [B * N], 1 = real token, 0 = padding. */
  attentionMask: Int32Array
  batchSize: number
  seqLen: number
  special: SpecialTokenIds
  /** Random replacement ids (80-10-10) are drawn from [0, vocabSize) minus the special ids. */
  vocabSize: number
  /** Default 'all-mask'. */
  recipe?: MaskRecipe
  /** Fraction of candidates selected. Default 0.15. */
  rate?: number
  rng: Rng
}

export interface MaskedBatch {
  /** [B * N] generator input: inputIds with the recipe applied at selected positions. */
  maskedIds: Int32Array
  /** [B * N] 1 where selected for prediction (whatever the recipe did to the token). */
  mlmMask: Int32Array
  /** [B * N] original id at selected positions, 0 elsewhere ([PAD] = 0 doubles as "none", as in B.7.1). */
  labels: Int32Array
}

export function maskBatch(params: MaskBatchParams): MaskedBatch {
  const {inputIds, attentionMask, batchSize: B, seqLen: N, special, vocabSize, rng} = params
  const recipe = params.recipe ?? 'all-mask'
  const rate = params.rate ?? 0.15
  if (inputIds.length !== B * N || attentionMask.length !== B * N) {
    throw new RangeError(`maskBatch: inputIds (${inputIds.length}) and attentionMask (${attentionMask.length}) must both have B*N = ${B}*${N} = ${B * N} entries`)
  }
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`maskBatch: rate must be in (0, 1], got ${rate}`)
  const specials = new Set([special.pad, special.cls, special.sep, special.unk, special.mask])
  if (recipe === '80-10-10' && vocabSize <= specials.size) throw new RangeError(`maskBatch: vocabSize ${vocabSize} leaves no regular ids`)

  const maskedIds = inputIds.slice()
  const mlmMask = new Int32Array(B * N)
  const labels = new Int32Array(B * N)
  const cand = new Int32Array(N)
  for (let b = 0; b < B; b++) {
    const row = b * N
    let nc = 0
    for (let j = 0; j < N; j++) {
      if (attentionMask[row + j] === 1 && !specials.has(inputIds[row + j])) cand[nc++] = row + j
    }
    if (nc === 0) continue
    const budget = Math.min(nc, Math.max(1, Math.round(rate * nc)))
    // partial Fisher-Yates: the first `budget` entries become a uniform sample without replacement
    for (let k = 0; k < budget; k++) {
      const r = k + rng.int(nc - k)
      const p = cand[r]
      cand[r] = cand[k]
      cand[k] = p
      mlmMask[p] = 1
      labels[p] = inputIds[p]
      if (recipe === 'all-mask') maskedIds[p] = special.mask
      else {
        const u = rng.uniform()
        if (recipe === 'electra') {
          if (u < 0.85) maskedIds[p] = special.mask
        } else if (u < 0.8) maskedIds[p] = special.mask
        else if (u < 0.9) {
          let id = rng.int(vocabSize)
          while (specials.has(id)) id = rng.int(vocabSize)
          maskedIds[p] = id
        }
      }
    }
  }
  return {maskedIds, mlmMask, labels}
}
