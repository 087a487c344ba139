/**
 * The pipeline's JSON Schema (2020-12): fixed sections written here, plus each stage's
 * options from the plugin it names. A stage `data: {plugin: x, ...}` is checked by plugin
 * x's fragment through `if plugin = x then $ref x`, so an error points into x's options and
 * x's defaults are filled in. The fixed sections come from config-sections.ts (their schemas
 * and TypeScript types), closed sets from enums.ts.
 */
import type {ArchitecturePlugin} from '../plugin/architecture.js'
import type {AnyPlugin, JsonSchema, PluginKind, RtdPlugin, StageKind} from '../plugin/contract.js'
import {STAGE_KINDS} from '../plugin/contract.js'
import type {PluginRegistry} from '../plugin/registry.js'
import {LOSS_SECTION, MESSAGE_KEYWORD, OUTPUT_SECTION, RUNTIME_SECTION, SCHEDULE_SECTION, SEED_SCHEMA} from '../config/config-sections.js'
import {SHARED_FRAGMENTS} from './shared-fragments.js'

export {MESSAGE_KEYWORD}

export const PIPELINE_SCHEMA_ID = 'https://rtd.dev/schemas/pipeline.schema.json'

export function pluginSchemaId(kind: PluginKind, name: string): string {
  return `https://rtd.dev/schemas/plugins/${kind}/${name}.json`
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
  // what plugins share (shared-fragments.ts), resolved by $id like the plugins' own fragments
  for (const [id, fragment] of SHARED_FRAGMENTS) $defs[`fragment.${id.slice(id.lastIndexOf('/') + 1, -'.json'.length)}`] = fragment

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
      seed: SEED_SCHEMA,
      runtime: RUNTIME_SECTION,
      data: stageSchema('data', byKind('data')),
      model: stageSchema('model', byKind('model'), architectures),
      finetune: {
        type: 'array',
        minItems: 1,
        description: 'Fine-tuning tasks run after the model stage (and its export), in order: each item is a stage with its own `plugin` (e.g. classification).',
        items: stageSchema('finetune', byKind('finetune')),
      },
      loss: LOSS_SECTION,
      schedule: SCHEDULE_SECTION,
      evaluation: stageSchema('evaluation', byKind('evaluation')),
      output: OUTPUT_SECTION,
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
