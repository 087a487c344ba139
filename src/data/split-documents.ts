import {Rng} from '../util/rng.js'

/**
 * Document-level train/eval split: a seeded permutation of document indices, the first
 * round(count * evalFraction) of it held out (at least one when evalFraction > 0 and there
 * are 2+ documents, never all of them). Each index lands in exactly one split; both lists are
 * returned in source order so packing keeps neighbouring documents together.
 */
export function splitDocuments(params: {count: number; evalFraction: number; seed: number}): {train: Int32Array; eval: Int32Array} {
  const {count} = params
  const isEval = evalMask(params)
  let nEval = 0
  for (let i = 0; i < count; i++) nEval += isEval[i]
  const train = new Int32Array(count - nEval)
  const evalIdx = new Int32Array(nEval)
  let t = 0
  let e = 0
  for (let i = 0; i < count; i++) {
    if (isEval[i]) evalIdx[e++] = i
    else train[t++] = i
  }
  return {train, eval: evalIdx}
}

/**
 * The same split as one byte per document (1 = eval), for streaming: the permutation is freed
 * once the mask is made, so a corpus of n documents costs 5n bytes at the peak, n after.
 */
export function evalMask(params: {count: number; evalFraction: number; seed: number}): Uint8Array {
  const {count, evalFraction} = params
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new RangeError(`eval_fraction must be in [0, 1), got ${evalFraction}`)
  let nEval = Math.round(count * evalFraction)
  if (evalFraction > 0 && count >= 2) nEval = Math.min(count - 1, Math.max(1, nEval))
  else if (count < 2) nEval = 0
  const perm = new Int32Array(count)
  for (let i = 0; i < count; i++) perm[i] = i
  Rng.derive(params.seed, 'split').shuffle(perm)
  const isEval = new Uint8Array(count)
  for (let i = 0; i < nEval; i++) isEval[perm[i]] = 1
  return isEval
}
