/**
 * The replacement-sampling Rng of one RTD step, keyed by GLOBAL batch row: the draws of row r
 * come from Rng.derive(...key, r) in position order. A row's samples therefore do not depend on
 * which other rows are computed with it, so data-parallel replicas that each get some rows of a
 * batch (src/parallel) draw exactly what one replica with the whole batch draws.
 *
 * Only `uniform()` is supported: it is all that sampleCategorical (src/model/sampling.ts) uses,
 * once per masked position, in row-major order.
 */
import {Rng} from '../util/rng.js'

export function rowSampleRng(opts: {
  /** Stream key, e.g. [seed, 'sample', step, microBatch]. */
  key: (string | number)[]
  /** Masks of the rows this Rng serves, [b·N], 1 = masked. */
  mlmMask: Int32Array | Uint8Array
  seqLen: number
  /** Global index of the first row served. */
  rowOffset: number
}): Rng {
  const {key, mlmMask, seqLen, rowOffset} = opts
  const rowOfDraw: number[] = []
  for (let p = 0; p < mlmMask.length; p++) if (mlmMask[p]) rowOfDraw.push(rowOffset + Math.floor(p / seqLen))
  const streams = new Map<number, Rng>()
  let k = 0
  // A real Rng (its class has a private constructor) whose methods are replaced.
  const rng = Rng.derive(...key, 'rows')
  rng.uniform = () => {
    if (k >= rowOfDraw.length) throw new Error(`row-keyed sample Rng: draw ${k + 1} but only ${rowOfDraw.length} masked positions`)
    const row = rowOfDraw[k++]!
    let s = streams.get(row)
    if (s === undefined) streams.set(row, (s = Rng.derive(...key, row)))
    return s.uniform()
  }
  rng.nextUint32 = () => {
    throw new Error('row-keyed sample Rng supports uniform() only')
  }
  return rng
}
