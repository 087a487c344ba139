/**
 * Load, resolve and validate a pipeline file (STYLE guideline 3): YAML with positions,
 * `extends` merged, `${env:...}` substituted, plugins loaded, command line overrides applied
 * (typed by the schema), then one validation pass that reports every issue at once.
 * Nothing is written anywhere.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {ConfigError, RtdError} from '../errors.js'
import {STAGE_KINDS, stageEntries, type PluginProblem} from '../plugin/contract.js'
import {PluginRegistry} from '../plugin/registry.js'
import {isPlainObject} from './deep-merge.js'
import {replaceOnFormChange} from './one-of-forms.js'
import {locate, type Origin, type OriginMap} from './origins.js'
import {applyOverrides, parseOverride, typeValue, type Override} from './overrides.js'
import {PipelineInvalid, type PipelineIssue} from './pipeline-issue.js'
import {buildPipelineSchema} from './pipeline-schema.js'
import {displayPath, resolveExtends} from './resolve-extends.js'
import {schemasAtPath} from './schema-at-path.js'
import {validatePipeline} from './validate-pipeline.js'

export interface ResolvedPipeline {
  /** Absolute path of the pipeline file. */
  file: string
  /** The resolved pipeline: extends merged, overrides applied, every default filled in. */
  value: Record<string, any>
  /** The command line overrides, as given. */
  overrides: string[]
  /** Files read: the pipeline first, then its `extends` bases (absolute paths, text as written). */
  sources: {file: string; text: string}[]
  /** Built-in plus the pipeline's external plugins. */
  registry: PluginRegistry
  /** Where each value was written (file:line:col or override), for issues found later (sweeps). */
  origins: OriginMap
}

export interface LoadPipelineParams {
  /** Path of the pipeline YAML (relative to `cwd`). */
  file: string
  /** `a.b.c=value` and `~a.b` strings, applied in order. */
  overrides?: string[]
  /** Environment for `${env:VAR}`; default process.env. */
  env?: Record<string, string | undefined>
  /** Registry to add the pipeline's plugins to; default a new one with the built-ins. */
  registry?: PluginRegistry
  /** Default process.cwd(); issues name files relative to it. */
  cwd?: string
  /** Default for runtime.threads; default os.availableParallelism(). */
  cpuCount?: number
}

/** Resolve and validate; throws PipelineInvalid (exit 2) listing every issue. */
export async function loadPipeline(params: LoadPipelineParams): Promise<ResolvedPipeline> {
  const cwd = params.cwd ?? process.cwd()
  const file = path.resolve(cwd, params.file)
  const display = displayPath(file, cwd)
  const registry = params.registry ?? new PluginRegistry()
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new ConfigError(`pipeline file ${display} does not exist`, {code: 'pipeline.not_found', suggestions: ['Check the path; pipelines/ holds the example pipelines.']})
  }
  const env = params.env ?? process.env
  let merged = resolveExtends({file, env, cwd})
  const issues: PipelineIssue[] = [...merged.issues]
  const fail = () => new PipelineInvalid({file: display, issues})
  if (issues.some((i) => i.code === 'yaml.syntax' || i.code === 'yaml.limit' || i.code.startsWith('extends.'))) throw fail()
  if (!isPlainObject(merged.value)) {
    issues.push({code: 'schema.type', path: '(root)', message: 'a pipeline must be a mapping of sections (name:, data:, model:, ...)', origin: locate(merged.origins, [])})
    throw fail()
  }
  let value = merged.value
  let origins = merged.origins

  const overrides: Override[] = []
  for (const text of params.overrides ?? []) {
    const o = parseOverride(text)
    if ('op' in o) overrides.push(o)
    else issues.push(o)
  }
  // `plugins` overrides first: the plugins they name shape the schema the others are typed by.
  const first = overrides.filter((o) => o.path[0] === 'plugins')
  const rest = overrides.filter((o) => o.path[0] !== 'plugins')
  issues.push(...applyOverrides({value, origins, overrides: first, schema: buildPipelineSchema({registry})}))

  const fileOf = new Map(merged.files.map((f) => [displayPath(f.file, cwd), f.file]))
  if (Array.isArray(value.plugins)) {
    for (const [i, spec] of value.plugins.entries()) {
      if (typeof spec !== 'string' || spec === '') continue // the schema reports it
      const origin = locate(origins, ['plugins', i])
      const baseDir = origin?.kind === 'file' && fileOf.has(origin.file) ? path.dirname(fileOf.get(origin.file)!) : path.dirname(file)
      try {
        await registry.load({specifier: spec, baseDir})
      } catch (error) {
        if (!(error instanceof RtdError)) throw error
        issues.push(pluginIssue({error, index: i, origin}))
      }
    }
  }
  if (issues.some((i) => i.code === 'plugin.load')) throw fail()

  const schema = buildPipelineSchema({registry})
  if (merged.files.length > 1) {
    // Merge again, now that the schema is known, with the rule that a section given in another
    // of its one-of forms replaces the base's (README, extends). Only the plugins' schemas
    // were needed from the first merge, and no one-of section lives under `plugins`.
    const again = resolveExtends({file, env, cwd, replaceWhole: replaceOnFormChange({schema, value})})
    if (again.replacedWhole.length > 0 && isPlainObject(again.value)) {
      merged = again
      value = again.value
      origins = again.origins
      applyOverrides({value, origins, overrides: first, schema}) // already reported above
    }
  }
  for (const p of merged.envPaths) {
    let parent: any = value
    for (const seg of p.slice(0, -1)) parent = parent?.[seg as any]
    const last = p[p.length - 1]
    if (parent && typeof parent[last as any] === 'string') parent[last as any] = typeValue({raw: parent[last as any], schemas: schemasAtPath({schema, value, path: p})})
  }
  issues.push(...applyOverrides({value, origins, overrides: rest, schema}))

  const result = validatePipeline({value, origins, registry, cpuCount: params.cpuCount, topFile: display})
  // A value whose environment variable is missing is already reported; its type error is noise.
  const envMissing = new Set(issues.filter((i) => i.code === 'env.missing').map((i) => i.path))
  issues.push(...result.issues.filter((i) => !(envMissing.has(i.path) && i.code.startsWith('schema.'))))
  if (issues.length > 0) throw fail()
  issues.push(...(await runPluginChecks({value: result.value, registry, origins})))
  if (issues.length > 0) throw fail()
  return {file, value: result.value, overrides: params.overrides ?? [], sources: merged.files, registry, origins}
}

/** Each stage plugin's cross-field `check`, its problems located like schema issues. */
async function runPluginChecks(p: {value: Record<string, any>; registry: PluginRegistry; origins: OriginMap}): Promise<PipelineIssue[]> {
  const issues: PipelineIssue[] = []
  for (const kind of STAGE_KINDS) for (const {stage} of stageEntries(p.value, kind)) {
    const plugin = p.registry.get(kind, stage.plugin as string)
    const {plugin: _name, ...options} = stage
    const checks: (() => PluginProblem[] | Promise<PluginProblem[]>)[] = []
    if (plugin?.check !== undefined) checks.push(() => plugin.check!(options, p.value))
    // a model section's architecture checks its own `config` (src/plugin/architecture.ts)
    const arch = kind === 'model' && typeof stage.architecture === 'string' ? p.registry.get('architecture', stage.architecture) : undefined
    if (arch?.check !== undefined && typeof stage.config === 'object' && stage.config !== null) checks.push(() => arch.check!(stage.config as Record<string, unknown>, p.value))
    const problems: PluginProblem[] = []
    for (const check of checks) {
      try {
        problems.push(...(await check()))
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error
        problems.push({path: kind, message: error.message})
      }
    }
    for (const problem of problems) {
      const segments = problem.path.split('.').filter((s) => s !== '')
      issues.push({code: 'plugin.check', path: problem.path, message: problem.message, origin: locate(p.origins, segments)})
    }
  }
  return issues
}

function pluginIssue(p: {error: RtdError; index: number; origin: Origin | undefined}): PipelineIssue {
  const hint = p.error.suggestions.length > 0 ? ` (${p.error.suggestions.join(' ')})` : ''
  return {code: 'plugin.load', path: `plugins[${p.index}]`, message: `${p.error.message}${hint}`, origin: p.origin}
}
