/**
 * One validation pass over a merged, overridden pipeline: plugin names, then the JSON Schema
 * (ajv, 2020-12, every error, defaults filled in), then cross-field rules. Every issue is
 * located in the source (see origins.ts) and unknown names get a "did you mean".
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Ajv2020, ErrorObject, ValidateFunction} from 'ajv/dist/2020.js'

import {STAGE_KINDS, stageEntries} from '../plugin/contract.js'
import type {PluginRegistry} from '../plugin/registry.js'
import {ajv2020} from '../plugin/validate-plugin.js'
import {isPlainObject} from './deep-merge.js'
import {didYouMean} from './did-you-mean.js'
import {oneOfForms} from './one-of-forms.js'
import {dotPath, formatOrigin, locate, type OriginMap, type PathSegments} from './origins.js'
import {buildPipelineSchema, MESSAGE_KEYWORD} from './pipeline-schema.js'
import type {IssueCode, PipelineIssue} from './pipeline-issue.js'
import {seedFlagHint} from './seed-flags.js'

const compiled = new WeakMap<PluginRegistry, {validate: ValidateFunction; size: number}>()

/**
 * The ajv instance the pipeline schema is compiled with, at run time and at build time (the
 * precompiled validator, src/pipeline/precompile-validator.ts), so both validate alike.
 * validateSchema off: every fragment was checked against the meta-schema already (external
 * plugins when loaded, built-ins by test/src/plugin/builtin-plugins.test.ts), and checking the
 * assembled schema again is a good part of `rtd validate`'s start-up.
 */
export function pipelineAjv(opts: {source?: boolean} = {}): Ajv2020 {
  // ajv2020(): loaded here, not at import (a precompiled validator needs none of ajv's compiler)
  const ajv = new (ajv2020())({allErrors: true, useDefaults: true, verbose: true, strict: false, validateSchema: false, ...(opts.source ? {code: {source: true}} : {})})
  ajv.addKeyword({keyword: MESSAGE_KEYWORD, schemaType: 'string'})
  return ajv
}

/** Identifies an assembled schema: a precompiled validator is used only for the schema it was built from. */
export function pipelineSchemaHash(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex')
}

/** The validator `npm run build` generated for the built-in plugins' schema (next to this module in dist/). */
export const PRECOMPILED_VALIDATOR = 'pipeline-validator.generated.cjs'

/** A precompiled validator from `file` when it was built from exactly `schema`, else undefined. */
export function loadPrecompiledValidator(params: {file: string; schema: object}): ValidateFunction | undefined {
  if (!existsSync(params.file)) return undefined
  const validate = createRequire(import.meta.url)(path.resolve(params.file)) as ValidateFunction & {schemaHash?: string}
  return validate.schemaHash === pipelineSchemaHash(params.schema) ? validate : undefined
}

/**
 * The ajv validator for this registry's schema (recompiled when plugins were added). Compiling
 * the schema is most of `rtd validate`'s start-up, so the built-ins' schema comes precompiled
 * (a pipeline with external plugins compiles its own at run time).
 */
export function pipelineValidator(registry: PluginRegistry): ValidateFunction {
  const size = registry.list().length
  const hit = compiled.get(registry)
  if (hit !== undefined && hit.size === size) return hit.validate
  const schema = buildPipelineSchema({registry})
  const validate = loadPrecompiledValidator({file: fileURLToPath(new URL(`./${PRECOMPILED_VALIDATOR}`, import.meta.url)), schema}) ?? pipelineAjv().compile(schema)
  compiled.set(registry, {validate, size})
  return validate
}

export interface ValidationResult {
  /** A copy of the input with every default filled in. */
  value: Record<string, any>
  issues: PipelineIssue[]
}

export function validatePipeline(params: {
  value: unknown
  origins: OriginMap
  registry: PluginRegistry
  /** Default for runtime.threads; os.availableParallelism() when omitted. */
  cpuCount?: number
  /** How origins name the pipeline file itself (not an `extends` base), for hints. */
  topFile?: string
}): ValidationResult {
  const {origins, registry} = params
  const value = structuredClone(params.value) as Record<string, any>
  const issues: PipelineIssue[] = []
  const badPluginPaths = new Set<string>()

  if (isPlainObject(value)) {
    for (const kind of STAGE_KINDS) for (const entry of stageEntries(value, kind)) {
      const stage = entry.stage
      if (!isPlainObject(stage) || typeof stage.plugin !== 'string') continue
      if (registry.get(kind, stage.plugin) !== undefined) continue
      badPluginPaths.add(`/${entry.path.join('/')}/plugin`)
      const names = registry.names(kind)
      const otherKind = STAGE_KINDS.find((k) => k !== kind && registry.get(k, stage.plugin as string) !== undefined)
      const available = names.length > 0 ? `available ${kind} plugins: ${names.join(', ')}` : `no ${kind} plugin is available (add one under \`plugins:\`)`
      issues.push({
        code: 'plugin.unknown',
        path: dotPath([...entry.path, 'plugin']),
        message: `unknown ${kind} plugin \`${stage.plugin}\`${otherKind ? ` (\`${stage.plugin}\` is a ${otherKind} plugin)` : ''}; ${available}`,
        origin: locate(origins, [...entry.path, 'plugin']),
        didYouMean: didYouMean({input: stage.plugin, candidates: names}),
      })
    }
    // model.architecture names an architecture plugin (src/plugin/architecture.ts)
    const arch = isPlainObject(value.model) ? value.model.architecture : undefined
    if (typeof arch === 'string' && registry.get('architecture', arch) === undefined) {
      badPluginPaths.add('/model/architecture')
      const names = registry.names('architecture')
      issues.push({
        code: 'plugin.unknown',
        path: 'model.architecture',
        message: `unknown architecture \`${arch}\`; available architectures: ${names.join(', ')}`,
        origin: locate(origins, ['model', 'architecture']),
        didYouMean: didYouMean({input: arch, candidates: names}),
      })
    }
  }

  const validate = pipelineValidator(registry)
  if (!validate(value)) {
    const seen = new Set<string>()
    for (const err of validate.errors ?? []) {
      if (badPluginPaths.has(err.instancePath)) continue
      const issue = toIssue({err, origins, root: value, topFile: params.topFile})
      if (issue === undefined) continue
      const key = `${issue.path}\u0000${issue.message}`
      if (seen.has(key)) continue
      seen.add(key)
      issues.push(issue)
    }
  }

  if (isPlainObject(value) && !STAGE_KINDS.some((k) => k in value)) {
    issues.push({
      code: 'schema.required',
      path: '(root)',
      message: `a pipeline needs at least one stage (${STAGE_KINDS.join(', ')})`,
      origin: locate(origins, []),
    })
  }
  if (isPlainObject(value) && isPlainObject(value.runtime) && value.runtime.threads === undefined) {
    value.runtime.threads = params.cpuCount ?? os.availableParallelism()
  }
  return {value, issues}
}

/** JSON pointer → path segments (array indices as numbers). */
export function pointerToPath(pointer: string, root: unknown): PathSegments {
  if (pointer === '') return []
  const out: PathSegments = []
  let cur: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out.push(Number(seg))
      cur = cur[Number(seg)]
    } else {
      out.push(seg)
      cur = isPlainObject(cur) ? cur[seg] : undefined
    }
  }
  return out
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === null) return 'null'
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list ${JSON.stringify(v)}`
  if (typeof v === 'object') return 'a mapping'
  return String(v)
}

function typeName(t: unknown): string {
  const name = (x: string) => ({object: 'a mapping', array: 'a list', integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', null: 'null'})[x] ?? x
  return Array.isArray(t) ? t.map((x) => name(String(x))).join(' or ') : name(String(t))
}

/**
 * A section that must be written in exactly one of its forms: name the forms given, where each
 * was written (a key from an `extends` base is located in the base file), and how to drop one.
 */
function formsIssue(p: {forms: string[][]; data: Record<string, unknown>; path: PathSegments; origins: OriginMap; topFile?: string}): PipelineIssue {
  const names = p.forms.map((keys) => keys.map((k) => `\`${k}\``).join(' + '))
  const here = dotPath(p.path)
  const given = p.forms.filter((keys) => keys.every((k) => k in p.data)).map((keys) => keys[0])
  if (given.length <= 1) {
    return {code: 'schema.required', path: here, message: `needs exactly one of ${names.join(', ')}`, origin: locate(p.origins, p.path)}
  }
  // Which key to keep: a command line override beats the pipeline file, which beats its bases.
  const written = given.map((key) => {
    const origin = locate(p.origins, [...p.path, key], 'key')
    const rank = origin?.kind === 'override' ? 2 : origin?.kind === 'file' && origin.file === p.topFile ? 1 : 0
    return {key, origin, rank}
  })
  const top = Math.max(...written.map((w) => w.rank))
  const keep = written.filter((w) => w.rank === top)
  const drop = written.filter((w) => w.rank < top)
  const listed = written.map((w) => `\`${w.key}\` (${formatOrigin(w.origin)}${w.rank === 0 && p.topFile !== undefined ? ', from a base file' : ''})`)
  let how: string
  if (keep.length === 1 && drop.length > 0) {
    const cli = drop.map((w) => `\`~${here}.${w.key}\``).join(' ')
    const fromBase = drop.filter((w) => w.rank === 0)
    const inFile =
      fromBase.length === drop.length
        ? `write ${fromBase.map((w) => `\`~${w.key}:\``).join(', ')} under \`${here}\` ${p.topFile === undefined ? 'in the pipeline that extends the base' : `in ${p.topFile}`}`
        : `delete ${drop.length === 1 ? 'it' : 'them'} from the file`
    how = `to keep \`${keep[0].key}\`, drop ${drop.map((w) => `\`${w.key}\``).join(', ')}: ${cli} on the command line, or ${inFile}`
  } else {
    how = `remove all but one of them`
  }
  return {
    code: 'schema.constraint',
    path: here,
    message: `give exactly one of ${names.join(', ')}; it has ${listed.join(' and ')}; ${how}`,
    origin: locate(p.origins, p.path),
  }
}

function toIssue(p: {err: ErrorObject; origins: OriginMap; root: unknown; topFile?: string}): PipelineIssue | undefined {
  const {err, origins} = p
  const path = pointerToPath(err.instancePath, p.root)
  const mk = (code: IssueCode, message: string, at: PathSegments = path, prefer: 'key' | 'value' = 'value', hint?: string): PipelineIssue => ({
    code,
    path: dotPath(at),
    message,
    origin: locate(origins, at, prefer),
    ...(hint === undefined ? {} : {didYouMean: hint}),
  })
  const params = err.params as Record<string, any>
  switch (err.keyword) {
    case 'if':
    case 'then':
    case 'else':
    case 'allOf':
      return undefined
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const known = Object.keys((err.parentSchema as any)?.properties ?? {})
      const where = path.length === 0 ? 'at the top level' : `in ${dotPath(path)}`
      // a seed-project flag written as a pipeline key: point at where it went instead of a near spelling
      const seed = path.length === 0 ? seedFlagHint(key) : undefined
      if (seed) return mk('schema.unknown_key', `unknown key \`${key}\` ${where}: ${seed.note}`, [key], 'key', seed.didYouMean)
      return mk('schema.unknown_key', `unknown key \`${key}\` ${where} (allowed: ${known.join(', ')})`, [...path, key], 'key', didYouMean({input: key, candidates: known}))
    }
    case 'required':
      // A branch of a forms `oneOf` (`hub` | `files` | `package`): the oneOf issue says it better.
      if (/\/oneOf\/\d+\/required$/.test(err.schemaPath) && Object.keys((err.parentSchema as object | undefined) ?? {}).length === 1) return undefined
      return mk('schema.required', `missing required key \`${params.missingProperty}\``, [...path, String(params.missingProperty)], 'value')
    case 'type':
      return mk('schema.type', `expected ${typeName(params.type)}, got ${show(err.data)}`)
    case 'enum':
    case 'const': {
      const allowed = (err.keyword === 'enum' ? params.allowedValues : [params.allowedValue]) as unknown[]
      const hint = typeof err.data === 'string' ? didYouMean({input: err.data, candidates: allowed.filter((a): a is string => typeof a === 'string')}) : undefined
      return mk('schema.enum', `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${show(err.data)}`, path, 'value', hint)
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return mk('schema.range', `must be ${params.comparison} ${params.limit}, got ${show(err.data)}`)
    case 'minItems':
    case 'maxItems':
      return mk('schema.range', `${err.keyword === 'minItems' ? 'needs at least' : 'allows at most'} ${params.limit} item${params.limit === 1 ? '' : 's'}, got ${show(err.data)}`)
    case 'minLength':
      return mk('schema.range', `must not be empty`)
    case 'pattern':
      return mk('schema.format', `${show(err.data)} does not match ${params.pattern}`)
    case 'not': {
      const msg = (err.parentSchema as any)?.[MESSAGE_KEYWORD]
      return mk('schema.constraint', typeof msg === 'string' ? msg : (err.message ?? 'is not allowed'))
    }
    case 'oneOf': {
      const forms = oneOfForms(err.parentSchema)
      if (forms !== undefined && isPlainObject(err.data)) return formsIssue({forms, data: err.data, path, origins, topFile: p.topFile})
      return mk('schema.type', `${show(err.data)} does not match ${(err.parentSchema as any)?.description ?? 'any allowed form'}`)
    }
    case 'anyOf':
      return mk('schema.type', `${show(err.data)} does not match ${(err.parentSchema as any)?.description ?? 'any allowed form'}`)
    default:
      return mk('schema.constraint', `${err.message ?? 'is invalid'} (got ${show(err.data)})`)
  }
}
