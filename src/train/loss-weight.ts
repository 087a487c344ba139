/**
 * Loss weights (SPEC A.6): lambda for L_RTD and the weight of L_MLM, each either a number,
 * `{schedule: constant, start}`, or a linear ramp from `start` to `end` over `steps` updates
 * (then held at `end`), optionally held at 0 for `warmup_steps` updates first (e.g. train the
 * generator alone before the discriminator's loss counts).
 * `step` is the number of updates already applied, so the first update uses `start`.
 */
import {ConfigError} from '../errors.js'

import {WEIGHT_SCHEDULES as LOSS_WEIGHT_SCHEDULES, type WeightSchedule as LossWeightScheduleName} from '../config/enums.js'

export {LOSS_WEIGHT_SCHEDULES, type LossWeightScheduleName}

export type LossWeight = number | {schedule: LossWeightScheduleName; start: number; end?: number; steps?: number; warmup_steps?: number}

export interface LossWeights {
  /** Weight of L_MLM. */
  mlm: number
  /** lambda, the weight of L_RTD. */
  rtd: number
}

export function lossWeight(params: {weight: LossWeight; step: number}): number {
  const {weight, step} = params
  if (typeof weight === 'number') return weight
  if (!LOSS_WEIGHT_SCHEDULES.includes(weight.schedule)) throw new ConfigError(`unknown loss weight schedule ${JSON.stringify(weight.schedule)}; expected one of ${LOSS_WEIGHT_SCHEDULES.join(', ')}`, {code: 'loss.schedule'})
  const warmup = weight.warmup_steps ?? 0
  if (step < warmup) return 0
  if (weight.schedule === 'constant') return weight.start
  const end = weight.end ?? weight.start
  if (!(weight.steps !== undefined && weight.steps > 0)) return end
  const f = Math.min(1, (step - warmup) / weight.steps)
  return weight.start + (end - weight.start) * f
}

export function lossWeights(params: {mlm: LossWeight; rtd: LossWeight; step: number}): LossWeights {
  return {mlm: lossWeight({weight: params.mlm, step: params.step}), rtd: lossWeight({weight: params.rtd, step: params.step})}
}
