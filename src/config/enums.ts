/**
 * Closed sets of pipeline values, declared once. The JSON Schema enums are built from these
 * arrays (config-sections.ts, src/pipeline/pipeline-schema.ts) and the types are derived from
 * them. src/config holds declarations only, below the code that reads them (src/train,
 * src/data), so that reading a default or an option list imports no pipeline machinery.
 */

// runtime.backend and runtime.native: declared beside the code that checks them
export {BACKENDS, NATIVE_MODES, type Backend, type NativeMode} from '../runtime/backend-choices.js'

export const OPTIMIZERS = ['adamw'] as const
export type OptimizerType = (typeof OPTIMIZERS)[number]

/** SPEC A.7: exponential (gamma per epoch), linear warmup + linear decay, constant. */
export const LR_SCHEDULES = ['exponential', 'warmup_linear', 'constant'] as const
export type LrScheduleType = (typeof LR_SCHEDULES)[number]

/** SPEC A.6: one optimizer and one backward (joint), or generator step first (decoupled). */
export const TRAINING_MODES = ['joint', 'decoupled'] as const
export type TrainingMode = (typeof TRAINING_MODES)[number]

/** How a loss weight (lambda, mlm_weight) changes over training steps. */
export const WEIGHT_SCHEDULES = ['constant', 'linear'] as const
export type WeightSchedule = (typeof WEIGHT_SCHEDULES)[number]

/** How selected tokens are masked: all [MASK] (DeBERTaV3), BERT's 80-10-10, or ELECTRA's 85% [MASK] / 15% kept. */
export const MASK_RECIPES = ['all-mask', '80-10-10', 'electra'] as const
export type MaskRecipe = (typeof MASK_RECIPES)[number]

/** Recompute encoder activations in the backward pass: less memory for more compute. */
export const RECOMPUTE_MODES = ['auto', 'on', 'alternate', 'off'] as const
export type RecomputeMode = (typeof RECOMPUTE_MODES)[number]
