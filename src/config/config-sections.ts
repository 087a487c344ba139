/**
 * The pipeline's fixed sections (runtime, loss, schedule, output), each declared once as an
 * `as const` JSON Schema: src/pipeline/pipeline-schema.ts puts them into the pipeline's schema (which
 * validates and fills in the defaults) and their TypeScript types are derived from the same
 * objects (schema-types.ts). Defaults live here only: code that needs one reads it from these
 * objects (e.g. the trainer's loss weights), never from a copy.
 */
import {BACKENDS, LR_SCHEDULES, NATIVE_MODES, OPTIMIZERS, RECOMPUTE_MODES, TRAINING_MODES, WEIGHT_SCHEDULES} from './enums.js'
import type {Resolved} from './schema-types.js'

/** Custom annotation: the message to show when the subschema carrying it fails (for `not`). */
export const MESSAGE_KEYWORD = 'x-rtd-message'

/** A loss weight: a number, or a schedule over training steps. */
function weightSchema<const D extends number>(description: string, dflt: D) {
  return {
    description: `${description} A number, or {schedule: constant|linear, start, end, steps, warmup_steps}.`,
    default: dflt,
    if: {type: 'object'},
    then: {
      type: 'object',
      additionalProperties: false,
      required: ['schedule', 'start'],
      properties: {
        schedule: {enum: WEIGHT_SCHEDULES, description: 'constant: `start` throughout; linear: from `start` to `end` over `steps`.'},
        start: {type: 'number', minimum: 0, description: 'Value at step 0 (after warmup).'},
        end: {type: 'number', minimum: 0, description: 'Value after `steps` steps (linear).'},
        steps: {type: 'integer', minimum: 1, description: 'Steps to go from `start` to `end` (linear).'},
        warmup_steps: {type: 'integer', minimum: 0, default: 0, description: 'Steps held at 0 before the schedule starts.'},
      },
      allOf: [{if: {properties: {schedule: {const: 'linear'}}, required: ['schedule']}, then: {required: ['end', 'steps']}}],
    },
    else: {type: 'number', minimum: 0},
  } as const
}

export const RUNTIME_SECTION = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'Where and how the numbers are computed.',
  properties: {
    backend: {enum: BACKENDS, default: 'auto', description: 'TensorFlow.js backend; auto picks the fastest one that can train here.'},
    threads: {type: 'integer', minimum: 1, description: 'Compute threads; default: the number of CPU cores (filled in at load time).'},
    workers: {type: 'integer', minimum: 1, default: 1, description: 'Worker processes for data-parallel training.'},
    native: {enum: NATIVE_MODES, default: 'auto', description: 'Native kernels: auto uses them when built, on requires them, off never loads them.'},
    recompute: {enum: RECOMPUTE_MODES, default: 'auto', description: 'Recompute encoder layers in the backward pass instead of keeping their activations. on: every layer (least memory, ~40% more time); alternate: every other layer (~1/3 less memory, ~25% more time); off: fastest. auto: on when the step would otherwise take more than 3 GB (or crowd the RAM); else on wasm alternate where that cuts the estimated peak by a tenth, else off; off on native and other backends.'},
  },
} as const

export const LOSS_SECTION = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'L = mlm_weight * L_MLM + lambda * L_RTD (SPEC A.6).',
  properties: {
    lambda: weightSchema('Weight of the discriminator (RTD) loss; ELECTRA uses 50, Microsoft\'s code 10.', 50),
    mlm_weight: weightSchema('Weight of the generator (MLM) loss.', 1),
  },
} as const

export const SCHEDULE_SECTION = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'Optimizer, learning-rate schedule, length and cadence of training.',
  properties: {
    epochs: {type: 'integer', minimum: 1, description: 'Passes over the training data; default 1 unless max_steps is set (set one, not both).'},
    max_steps: {type: 'integer', minimum: 1, description: 'Optimizer steps to train for (instead of epochs).'},
    batch_size: {type: 'integer', minimum: 1, default: 8, description: 'Sequences per micro-batch.'},
    grad_accumulation: {type: 'integer', minimum: 1, default: 1, description: 'Micro-batches summed per optimizer step.'},
    optimizer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        type: {enum: OPTIMIZERS, default: 'adamw', description: 'AdamW with decoupled weight decay (none on biases and LayerNorm).'},
        lr: {type: 'number', exclusiveMinimum: 0, default: 1e-4, description: 'Peak learning rate.'},
        betas: {type: 'array', items: {type: 'number', minimum: 0, exclusiveMaximum: 1}, minItems: 2, maxItems: 2, default: [0.9, 0.999]},
        eps: {type: 'number', exclusiveMinimum: 0, default: 1e-6},
        weight_decay: {type: 'number', minimum: 0, default: 0.01},
      },
    },
    lr_schedule: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        type: {enum: LR_SCHEDULES, default: 'exponential', description: 'exponential (gamma per epoch), warmup_linear (linear warmup then linear decay to 0), constant.'},
        gamma: {type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.9, description: 'Exponential decay factor per epoch.'},
        warmup_steps: {type: 'integer', minimum: 0, description: 'Linear warmup steps; default 0 unless warmup_ratio is set (set one, not both).'},
        warmup_ratio: {type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Warmup as a fraction of all steps.'},
      },
      allOf: [
        {not: {required: ['warmup_steps', 'warmup_ratio']}, [MESSAGE_KEYWORD]: 'set warmup_steps or warmup_ratio, not both'},
        {if: {not: {required: ['warmup_ratio']}}, then: {properties: {warmup_steps: {default: 0}}}},
      ],
    },
    clip_norm: {type: 'number', minimum: 0, default: 1, description: 'Clip gradients to this global norm; 0 turns clipping off.'},
    training: {enum: TRAINING_MODES, default: 'joint', description: 'joint: one optimizer, one backward; decoupled: generator step first (Microsoft).'},
    log_every: {type: 'integer', minimum: 1, default: 1, description: 'Write a metrics.jsonl line every this many steps (the progress bar updates every step).'},
    eval_every: {type: 'integer', minimum: 0, default: 0, description: 'Evaluate every this many steps; 0 = only at the end.'},
    checkpoint_every: {type: 'integer', minimum: 0, default: 0, description: 'Save a resumable checkpoint every this many steps; 0 = only at the end and on Ctrl-C.'},
    keep: {type: 'integer', minimum: 1, default: 2, description: 'Checkpoints kept (older ones are deleted).'},
  },
  allOf: [
    {not: {required: ['epochs', 'max_steps']}, [MESSAGE_KEYWORD]: 'set epochs or max_steps, not both'},
    {if: {not: {required: ['max_steps']}}, then: {properties: {epochs: {default: 1}}}},
  ],
} as const

export const OUTPUT_SECTION = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dir: {type: 'string', minLength: 1, default: 'runs', description: 'Where run directories go, relative to the working directory.'},
    save_name: {type: 'string', minLength: 1, description: 'Name of the exported model directory; default chosen by the model plugin.'},
  },
} as const

export const SEED_SCHEMA = {type: 'integer', minimum: 0, default: 42, description: 'Seed for every random draw (masking, sampling, shuffling, init).'} as const

/** The resolved sections (validated, defaults filled in), as stages find them in ctx.pipeline. */
export type RuntimeSection = Resolved<typeof RUNTIME_SECTION>
export type LossSection = Resolved<typeof LOSS_SECTION>
export type ScheduleSection = Resolved<typeof SCHEDULE_SECTION>
export type OutputSection = Resolved<typeof OUTPUT_SECTION>

/** The fixed sections of a resolved pipeline; stage sections stay plugin-typed. */
export interface FixedSections {
  name: string
  seed: number
  runtime: RuntimeSection
  loss: LossSection
  schedule: ScheduleSection
  output: OutputSection
}
