/**
 * Load a pipeline file and the chain of `extends:` bases it names, deep-merged (base first,
 * the including file last), with origins kept per file.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {deepMerge, isPlainObject, type ReplaceWhole} from './deep-merge.js'
import {dropOriginsUnder, emptyOriginMap, isUnder, locate, pathKey, type OriginMap, type PathSegments} from './origins.js'
import type {PipelineIssue} from './pipeline-issue.js'
import {readYamlSource} from './yaml-source.js'

export interface MergedSource {
  value: unknown
  origins: OriginMap
  envPaths: PathSegments[]
  issues: PipelineIssue[]
  /** Every file read, the top file first, then its bases in the order they were found. */
  files: {file: string; text: string}[]
  /** Paths where a file's mapping replaced its base's whole (see `replaceWhole`). */
  replacedWhole: PathSegments[]
}

/** How issues name a file: relative to the working directory when it is below it. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file)
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel
}

export function resolveExtends(params: {
  file: string
  env: Record<string, string | undefined>
  cwd: string
  /** Mappings a file replaces instead of merging into its base's (default: none). */
  replaceWhole?: ReplaceWhole
}): MergedSource {
  const files: MergedSource['files'] = []
  const replacedWhole: PathSegments[] = []
  const replaceWhole: ReplaceWhole | undefined =
    params.replaceWhole === undefined
      ? undefined
      : (m) => {
          const yes = params.replaceWhole!(m)
          if (yes) replacedWhole.push(m.path)
          return yes
        }
  const merged = load({file: path.resolve(params.cwd, params.file), stack: [], files, env: params.env, cwd: params.cwd, replaceWhole})
  return {...merged, files, replacedWhole}
}

function load(p: {
  file: string
  stack: string[]
  files: MergedSource['files']
  env: Record<string, string | undefined>
  cwd: string
  replaceWhole: ReplaceWhole | undefined
}): Omit<MergedSource, 'files' | 'replacedWhole'> {
  const src = readYamlSource({file: p.file, displayFile: displayPath(p.file, p.cwd), env: p.env})
  p.files.push({file: p.file, text: src.text})
  const result = {value: src.value, origins: src.origins, envPaths: src.envPaths, issues: [...src.issues]}
  if (src.issues.some((i) => i.code === 'yaml.syntax') || !isPlainObject(src.value) || !('extends' in src.value)) return result

  const top = {...src.value}
  const ext = top.extends
  delete top.extends
  const bases = typeof ext === 'string' ? [ext] : Array.isArray(ext) ? ext : undefined
  if (bases === undefined || bases.some((b) => typeof b !== 'string' || b === '')) {
    result.issues.push({
      code: 'schema.type',
      path: 'extends',
      message: `expected a path (or a list of paths) to a base pipeline, got ${JSON.stringify(ext)}`,
      origin: locate(src.origins, ['extends']),
    })
    return result
  }

  let value: unknown = {}
  let origins = emptyOriginMap()
  let envPaths: PathSegments[] = []
  const issues: PipelineIssue[] = [...src.issues]
  for (const [i, b] of (bases as string[]).entries()) {
    const at = locate(src.origins, typeof ext === 'string' ? ['extends'] : ['extends', i])
    const baseFile = path.resolve(path.dirname(p.file), b)
    if ([...p.stack, p.file].includes(baseFile)) {
      const chain = [...p.stack, p.file, baseFile].map((f) => displayPath(f, p.cwd)).join(' -> ')
      issues.push({code: 'extends.cycle', path: 'extends', message: `extends forms a cycle: ${chain}`, origin: at})
      continue
    }
    if (!fs.existsSync(baseFile)) {
      issues.push({
        code: 'extends.missing',
        path: 'extends',
        message: `base pipeline ${displayPath(baseFile, p.cwd)} does not exist (paths in extends are relative to the including file)`,
        origin: at,
      })
      continue
    }
    const base = load({...p, file: baseFile, stack: [...p.stack, p.file]})
    issues.push(...base.issues)
    ;({value, origins} = mergeWithOrigins({base: {value, origins}, top: {value: base.value, origins: base.origins}, replaceWhole: p.replaceWhole}))
    envPaths = [...envPaths, ...base.envPaths]
  }
  const topOrigins = emptyOriginMap()
  for (const [k, o] of src.origins.keys) if (!isUnder(JSON.parse(k), ['extends'])) topOrigins.keys.set(k, o)
  for (const [k, o] of src.origins.values) if (!isUnder(JSON.parse(k), ['extends'])) topOrigins.values.set(k, o)
  const m = mergeWithOrigins({base: {value, origins}, top: {value: top, origins: topOrigins}, replaceWhole: p.replaceWhole})
  return {value: m.value, origins: m.origins, envPaths: [...envPaths, ...src.envPaths], issues}
}

function mergeWithOrigins(p: {
  base: {value: unknown; origins: OriginMap}
  top: {value: unknown; origins: OriginMap}
  replaceWhole: ReplaceWhole | undefined
}): {value: unknown; origins: OriginMap} {
  const replaced: PathSegments[] = []
  const value = deepMerge({base: p.base.value, top: p.top.value, replaced, replaceWhole: p.replaceWhole})
  const origins: OriginMap = {keys: new Map(p.base.origins.keys), values: new Map(p.base.origins.values)}
  for (const r of replaced) dropOriginsUnder(origins, r)
  for (const [k, o] of p.top.origins.keys) origins.keys.set(k, o)
  for (const [k, o] of p.top.origins.values) origins.values.set(k, o)
  if (!origins.values.has(pathKey([])) && p.top.origins.values.has(pathKey([]))) origins.values.set(pathKey([]), p.top.origins.values.get(pathKey([]))!)
  return {value, origins}
}
