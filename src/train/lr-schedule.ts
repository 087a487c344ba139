/**
 * Learning-rate schedules (SPEC A.7, B.7.4), as pure functions of the optimizer position.
 *
 * `step` is the number of updates already applied (0 for the first update). Microsoft's
 * XAdam evaluates its schedule with that count before incrementing it, and HF's LambdaLR
 * schedules do the same, so with warmup the first update has learning rate 0.
 *
 * - `exponential`: lr = base · gamma^epoch (epoch 0-based), i.e. torch ExponentialLR stepped
 *   once per epoch, the seed project's schedule. Optional linear warmup factor min(1, step/W).
 * - `warmup_linear`: Microsoft DeBERTa's `warmup_linear` (DeBERTa/optims/lr_schedulers.py):
 *   factor = step/W while step < W, then 1 − step/T (clamped at 0 past T, where the original
 *   wraps around). Not re-based at the end of warmup: the factor drops from ~1 to 1 − W/T
 *   there, as in the official code. With W = 0 it is plain linear decay, 1 at the first update.
 * - `constant`: lr = base, with the optional warmup factor min(1, step/W).
 */
import {ConfigError} from '../errors.js'

export {LR_SCHEDULES} from '../config/enums.js'
export type {LrScheduleType as LrScheduleName} from '../config/enums.js'

export type LrSchedule =
  | {type: 'exponential'; gamma: number; warmupSteps?: number}
  | {type: 'warmup_linear'; warmupSteps: number}
  | {type: 'constant'; warmupSteps?: number}

export interface LearningRateParams {
  schedule: LrSchedule
  /** Updates already applied (0 for the first update). */
  step: number
  /** 0-based epoch of the update. Used by `exponential`. */
  epoch: number
  /** Total updates of the run. Used by `warmup_linear`. */
  totalSteps: number
  baseLr: number
}

export function learningRate(params: LearningRateParams): number {
  const {schedule, step, epoch, totalSteps, baseLr} = params
  const s = step
  const warm = (w: number | undefined): number => (w && w > 0 ? Math.min(1, s / w) : 1)
  switch (schedule.type) {
    case 'exponential':
      return baseLr * Math.pow(schedule.gamma, epoch) * warm(schedule.warmupSteps)
    case 'constant':
      return baseLr * warm(schedule.warmupSteps)
    case 'warmup_linear': {
      if (!(totalSteps > 0)) throw new ConfigError(`warmup_linear needs the total number of steps, got ${totalSteps}`, {code: 'schedule.total_steps', suggestions: ['set schedule.max_steps, or use epochs with a data set of known size']})
      const w = schedule.warmupSteps
      if (w > 0 && s < w) return (baseLr * s) / w
      return baseLr * Math.max(0, 1 - s / totalSteps)
    }
  }
}

/**
 * Warmup given as Microsoft's `--warmup_proportion` does: a value below 1 is a fraction of the
 * total steps, 1 or more is a number of steps.
 */
export function resolveWarmupSteps(params: {warmup: number; totalSteps: number}): number {
  const {warmup, totalSteps} = params
  if (!(warmup >= 0)) throw new ConfigError(`warmup must be >= 0, got ${warmup}`, {code: 'schedule.warmup'})
  return warmup < 1 ? Math.round(warmup * totalSteps) : Math.round(warmup)
}
