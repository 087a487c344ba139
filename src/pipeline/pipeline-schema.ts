/**
 * The pipeline's JSON Schema (2020-12): fixed sections written here, plus each stage's
 * options from the plugin it names. A stage `data: {plugin: x, ...}` is checked by plugin
 * x's fragment through `if plugin = x then $ref x`, so an error points into x's options and
 * x's defaults are filled in. Closed sets come from src/pipeline/enums.ts.
 */
import type {ArchitecturePlugin} from '../plugin/architecture.js'
import type {AnyPlugin, JsonSchema, PluginKind, RtdPlugin, StageKind} from '../plugin/contract.js'
import {STAGE_KINDS} from '../plugin/contract.js'
import type {PluginRegistry} from '../plugin/registry.js'
import {BACKENDS, LR_SCHEDULES, NATIVE_MODES, OPTIMIZERS, RECOMPUTE_MODES, TRAINING_MODES, WEIGHT_SCHEDULES} from './enums.js'

export const PIPELINE_SCHEMA_ID = 'https://rtd.dev/schemas/pipeline.schema.json'

/** Custom annotation: the message to show when the subschema carrying it fails (for `not`). */
export const MESSAGE_KEYWORD = 'x-rtd-message'

export function pluginSchemaId(kind: PluginKind, name: string): string {
  return `https://rtd.dev/schemas/plugins/${kind}/${name}.json`
}

/** A loss weight: a number, or a schedule over training steps. */
function weightSchema(description: string, dflt: number): JsonSchema {
  return {
    description: `${description} A number, or {schedule: constant|linear, start, end, steps, warmup_steps}.`,
    default: dflt,
    if: {type: 'object'},
    then: {
      type: 'object',
      additionalProperties: false,
      required: ['schedule', 'start'],
      properties: {
        schedule: {enum: [...WEIGHT_SCHEDULES], description: 'constant: `start` throughout; linear: from `start` to `end` over `steps`.'},
        start: {type: 'number', minimum: 0, description: 'Value at step 0 (after warmup).'},
        end: {type: 'number', minimum: 0, description: 'Value after `steps` steps (linear).'},
        steps: {type: 'integer', minimum: 1, description: 'Steps to go from `start` to `end` (linear).'},
        warmup_steps: {type: 'integer', minimum: 0, default: 0, description: 'Steps held at 0 before the schedule starts.'},
      },
      allOf: [{if: {properties: {schedule: {const: 'linear'}}, required: ['schedule']}, then: {required: ['end', 'steps']}}],
    },
    else: {type: 'number', minimum: 0},
  }
}

/**
 * A model plugin that declares an `architecture` option gets its `config` checked by that
 * architecture's schema (the plugin's own `config` stays an open object). The default
 * architecture also matches when `architecture` is absent.
 */
function architectureDispatch(plugin: RtdPlugin<any>, architectures: ArchitecturePlugin[]): JsonSchema | undefined {
  const option = (plugin.schema as {properties?: Record<string, {default?: unknown}>}).properties?.architecture
  if (option === undefined || architectures.length === 0) return undefined
  return {
    if: {properties: {plugin: {const: plugin.name}}, required: ['plugin']},
    then: {
      allOf: architectures.map((a) => ({
        if: {properties: {architecture: {const: a.name}}, ...(option.default === a.name ? {} : {required: ['architecture']})},
        then: {properties: {config: {$ref: pluginSchemaId('architecture', a.name)}}},
      })),
    },
  }
}

function stageSchema(kind: StageKind, plugins: RtdPlugin<any>[], architectures: ArchitecturePlugin[] = []): JsonSchema {
  const names = plugins.map((p) => p.name).sort()
  const dispatch = plugins.map((p) => architectureDispatch(p, architectures)).filter((d): d is JsonSchema => d !== undefined)
  return {
    type: 'object',
    description: `The ${kind} stage: \`plugin\` names its implementation; the other keys are that plugin's options (see \`rtd plugins\`).`,
    required: ['plugin'],
    properties: {
      plugin: names.length > 0 ? {type: 'string', enum: names} : {type: 'string'},
    },
    ...(names.length === 0
      ? {}
      : {
          allOf: [
            ...names.map((name) => ({
              if: {properties: {plugin: {const: name}}, required: ['plugin']},
              then: {$ref: pluginSchemaId(kind, name)},
            })),
            ...dispatch,
          ],
        }),
  }
}

/** A plugin's fragment as a standalone resource, with the `plugin` key allowed (an architecture's: its `model.config`). */
export function pluginFragment(plugin: AnyPlugin): JsonSchema {
  const s = plugin.schema as Record<string, any>
  if (plugin.kind === 'architecture') {
    const closed = s.unevaluatedProperties === undefined && s.additionalProperties === undefined
    return {...s, $id: pluginSchemaId(plugin.kind, plugin.name), type: 'object', ...(closed ? {additionalProperties: false} : {}), description: s.description ?? plugin.summary}
  }
  const closed = s.unevaluatedProperties === undefined && s.additionalProperties === undefined
  return {
    ...s,
    $id: pluginSchemaId(plugin.kind, plugin.name),
    type: 'object',
    properties: {plugin: {const: plugin.name}, ...(s.properties ?? {})},
    ...(closed ? {additionalProperties: false} : {}),
    ...(plugin.summary ? {description: s.description ?? plugin.summary} : {}),
  }
}

export function buildPipelineSchema(params: {registry: PluginRegistry}): JsonSchema {
  const {registry} = params
  const all = registry.list().map((r) => r.plugin)
  const byKind = (k: StageKind) => all.filter((p): p is RtdPlugin<any> => p.kind === k)
  const architectures = all.filter((p): p is ArchitecturePlugin => p.kind === 'architecture')
  const $defs: Record<string, JsonSchema> = {}
  for (const p of all) $defs[`${p.kind}.${p.name}`] = pluginFragment(p)

  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: PIPELINE_SCHEMA_ID,
    title: 'rtd pipeline',
    description: 'An rtd pipeline: replaced-token-detection pretraining of DeBERTa-v3 (SPEC Part A).',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: {type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Run name; run directories are <output.dir>/<name>-<YYYYMMDD-HHMMSS>.'},
      extends: {
        description: 'Base pipeline(s) to deep-merge under this one, relative to this file (objects merge, lists and scalars replace).',
        anyOf: [{type: 'string'}, {type: 'array', items: {type: 'string'}}],
      },
      seed: {type: 'integer', minimum: 0, default: 42, description: 'Seed for every random draw (masking, sampling, shuffling, init).'},
      runtime: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Where and how the numbers are computed.',
        properties: {
          backend: {enum: [...BACKENDS], default: 'auto', description: 'TensorFlow.js backend; auto picks the fastest one that can train here.'},
          threads: {type: 'integer', minimum: 1, description: 'Compute threads; default: the number of CPU cores (filled in at load time).'},
          workers: {type: 'integer', minimum: 1, default: 1, description: 'Worker processes for data-parallel training.'},
          native: {enum: [...NATIVE_MODES], default: 'auto', description: 'Native kernels: auto uses them when built, on requires them, off never loads them.'},
          recompute: {enum: [...RECOMPUTE_MODES], default: 'auto', description: 'Recompute encoder layers in the backward pass instead of keeping their activations. on: every layer (least memory, ~40% more time); alternate: every other layer (~1/3 less memory, ~25% more time); off: fastest. auto (wasm and native): on when the step would otherwise take more than 3 GB (or crowd the RAM), else alternate; off on other backends.'},
        },
      },
      data: stageSchema('data', byKind('data')),
      model: stageSchema('model', byKind('model'), architectures),
      finetune: {
        type: 'array',
        minItems: 1,
        description: 'Fine-tuning tasks run after the model stage (and its export), in order: each item is a stage with its own `plugin` (e.g. classification).',
        items: stageSchema('finetune', byKind('finetune')),
      },
      loss: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'L = mlm_weight * L_MLM + lambda * L_RTD (SPEC A.6).',
        properties: {
          lambda: weightSchema('Weight of the discriminator (RTD) loss; ELECTRA uses 50, Microsoft\'s code 10.', 50),
          mlm_weight: weightSchema('Weight of the generator (MLM) loss.', 1),
        },
      },
      schedule: {
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
              type: {enum: [...OPTIMIZERS], default: 'adamw', description: 'AdamW with decoupled weight decay (none on biases and LayerNorm).'},
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
              type: {enum: [...LR_SCHEDULES], default: 'exponential', description: 'exponential (gamma per epoch), warmup_linear (linear warmup then linear decay to 0), constant.'},
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
          training: {enum: [...TRAINING_MODES], default: 'joint', description: 'joint: one optimizer, one backward; decoupled: generator step first (Microsoft).'},
          log_every: {type: 'integer', minimum: 1, default: 1, description: 'Write a metrics.jsonl line every this many steps (the progress bar updates every step).'},
          eval_every: {type: 'integer', minimum: 0, default: 0, description: 'Evaluate every this many steps; 0 = only at the end.'},
          checkpoint_every: {type: 'integer', minimum: 0, default: 0, description: 'Save a resumable checkpoint every this many steps; 0 = only at the end and on Ctrl-C.'},
          keep: {type: 'integer', minimum: 1, default: 2, description: 'Checkpoints kept (older ones are deleted).'},
        },
        allOf: [
          {not: {required: ['epochs', 'max_steps']}, [MESSAGE_KEYWORD]: 'set epochs or max_steps, not both'},
          {if: {not: {required: ['max_steps']}}, then: {properties: {epochs: {default: 1}}}},
        ],
      },
      evaluation: stageSchema('evaluation', byKind('evaluation')),
      output: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          dir: {type: 'string', minLength: 1, default: 'runs', description: 'Where run directories go, relative to the working directory.'},
          save_name: {type: 'string', minLength: 1, description: 'Name of the exported model directory; default chosen by the model plugin.'},
        },
      },
      sweep: {
        description: 'Run several variants of this pipeline (`rtd run` runs each in <output.dir>/<name>-sweep-<stamp>/<variant>/ and writes one comparison report). A mapping {key.path: [values]} runs every combination of the values; a list of override sets [{key.path: value, ~key.path: null, variant: name}] runs exactly those variants.',
        anyOf: [
          {type: 'object', minProperties: 1, additionalProperties: {type: 'array', minItems: 1}},
          {type: 'array', minItems: 1, items: {type: 'object', minProperties: 1}},
        ],
      },
      plugins: {
        type: 'array',
        items: {type: 'string', minLength: 1},
        default: [],
        description: 'Extra plugin modules: npm package names or paths relative to this file (JavaScript).',
      },
    },
    $defs,
  }
}

/** The stage sections, for code that walks them. */
export const STAGE_SECTIONS: readonly StageKind[] = STAGE_KINDS
