/**
 * Evaluation over several seeded draws of masks and replacements (evaluation.draws): the seed of
 * each draw, and the mean and spread of each metric across draws.
 */
import {Rng} from '../util/rng.js'

/** Draw 0 keeps the evaluation seed (one draw = the plain evaluation); later draws derive theirs from it. */
export function drawSeed(seed: number, draw: number): number {
  return draw === 0 ? seed : Rng.derive(seed, 'eval-draw', draw).nextUint32()
}

/** Counts that are the same kind of number in every draw (no spread reported for them). */
const COUNTS = new Set(['disc_tokens', 'masked_tokens', 'disc_tokens_no_special', 'baseline_f1'])

/**
 * Each metric's mean over the draws under its own name, its sample standard deviation (n - 1) as
 * `<name>_std` (counts excepted), and `draws`. One draw is returned as it is.
 */
export function averageDraws(perDraw: readonly Record<string, number>[]): Record<string, number> {
  if (perDraw.length === 0) throw new RangeError('averageDraws: no draws')
  if (perDraw.length === 1) return {...perDraw[0]}
  const n = perDraw.length
  const out: Record<string, number> = {}
  const stds: Record<string, number> = {}
  for (const key of Object.keys(perDraw[0])) {
    const values = perDraw.map((m) => m[key])
    const mean = values.reduce((s, v) => s + v, 0) / n
    out[key] = mean
    if (!COUNTS.has(key)) stds[`${key}_std`] = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1))
  }
  return {...out, ...stds, draws: n}
}
