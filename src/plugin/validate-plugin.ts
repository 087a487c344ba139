import {createRequire} from 'node:module'

import type {Ajv2020} from 'ajv/dist/2020.js'

import {ConfigError} from '../errors.js'
import {PLUGIN_KINDS, type AnyPlugin} from './contract.js'

/**
 * ajv's 2020-12 class, loaded on first use rather than imported: its compiler is ~80 modules
 * (0.15 s of CPU) that listing plugins and validating with the precompiled pipeline validator
 * (`rtd validate`, `rtd plugins`) never need.
 */
export function ajv2020(): typeof Ajv2020 {
  return (createRequire(import.meta.url)('ajv/dist/2020.js') as {Ajv2020: typeof Ajv2020}).Ajv2020
}

// Only checks fragments against the 2020-12 meta-schema; pipelines compile their own validator.
// Made on first use: compiling the meta-schema is a good part of `rtd validate`'s start-up.
let metaValidator: Ajv2020 | undefined
const meta = (): Ajv2020 => (metaValidator ??= new (ajv2020())({strict: false}))

/**
 * Check that a value a module exported really is an RtdPlugin, so a broken plugin fails at
 * load time with its source named, not in the middle of a run.
 */
export function validatePlugin(params: {value: unknown; source: string; /** Built-ins: their schemas are checked against the meta-schema by a test, not at every start. */ trusted?: boolean}): AnyPlugin {
  const {value, source} = params
  const problems: string[] = []
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError(`${source} exports ${value === null ? 'null' : typeof value} where a plugin object was expected`, {
      code: 'plugin.invalid',
      suggestions: ['Export `default` (or `plugin`, or a `plugins` array) as {name, kind, summary, schema, create}.'],
    })
  }
  const p = value as Record<string, unknown>
  if (typeof p.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(p.name)) problems.push(`name must be a non-empty identifier, got ${JSON.stringify(p.name)}`)
  if (!PLUGIN_KINDS.includes(p.kind as never)) problems.push(`kind must be one of ${PLUGIN_KINDS.join(', ')}, got ${JSON.stringify(p.kind)}`)
  if (p.summary !== undefined && typeof p.summary !== 'string') problems.push(`summary must be a string, got ${typeof p.summary}`)
  const schema = p.schema as Record<string, unknown> | undefined
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) problems.push(`schema must be a JSON Schema object, got ${JSON.stringify(schema)}`)
  else {
    if (schema.type !== undefined && schema.type !== 'object') problems.push(`schema.type must be "object", got ${JSON.stringify(schema.type)}`)
    if (schema.properties !== undefined && (typeof schema.properties !== 'object' || schema.properties === null)) problems.push('schema.properties must be an object')
    if (typeof schema.properties === 'object' && schema.properties !== null && 'plugin' in schema.properties) problems.push('schema.properties must not declare `plugin` (the runner adds it)')
    if (params.trusted !== true && !meta().validateSchema(schema)) problems.push(`schema is not valid JSON Schema 2020-12: ${meta().errorsText(meta().errors)}`)
  }
  if (p.kind === 'architecture') {
    // src/plugin/architecture.ts: pure config functions plus a lazy load() of the networks
    if (typeof p.load !== 'function') problems.push(`load must be a function returning the networks, got ${typeof p.load}`)
    if (!Array.isArray(p.modelTypes) || p.modelTypes.some((t) => typeof t !== 'string')) problems.push(`modelTypes must be an array of Hugging Face model_type strings, got ${JSON.stringify(p.modelTypes)}`)
    const c = p.configs as Record<string, unknown> | undefined
    for (const f of ['parse', 'toHf', 'fromScratch', 'generator', 'facts', 'shape']) {
      if (typeof c?.[f] !== 'function') problems.push(`configs.${f} must be a function, got ${typeof c?.[f]}`)
    }
  } else if (typeof p.create !== 'function') problems.push(`create must be a function, got ${typeof p.create}`)
  if (p.check !== undefined && typeof p.check !== 'function') problems.push(`check must be a function when given, got ${typeof p.check}`)
  if (p.preflight !== undefined && typeof p.preflight !== 'function') problems.push(`preflight must be a function when given, got ${typeof p.preflight}`)
  if (problems.length > 0) {
    const label = typeof p.name === 'string' ? `plugin \`${p.name}\` from ${source}` : `plugin from ${source}`
    throw new ConfigError(`${label} is invalid:\n${problems.map((x) => `  - ${x}`).join('\n')}`, {code: 'plugin.invalid'})
  }
  return {summary: '', ...(p as object)} as AnyPlugin
}
