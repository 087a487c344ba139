/**
 * Command line overrides: `a.b.c=value` sets a value (typed by the schema at that path),
 * `~a.b` deletes a key. Lists: `[1,2]` or `1,2`; mappings: `{a: 1}`; list items: `a.b[0]=x`.
 */
import {parse as parseYaml} from 'yaml'

import {isPlainObject} from './deep-merge.js'
import {dotPath, dropOriginsUnder, pathKey, type Origin, type OriginMap, type PathSegments} from './origins.js'
import type {PipelineIssue} from './pipeline-issue.js'
import {didYouMean} from './did-you-mean.js'
import {allowedTypes, schemasAtPath} from './schema-at-path.js'

export type Override = {op: 'set'; path: PathSegments; raw: string; text: string} | {op: 'delete'; path: PathSegments; text: string}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** `schedule.optimizer.lr` / `plugins[0]` → segments; undefined when malformed. */
export function parsePath(text: string): PathSegments | undefined {
  const out: PathSegments = []
  for (const part of text.split('.')) {
    const m = part.match(/^([^[\]]+)((?:\[\d+\])*)$/)
    if (m === null || !SEGMENT.test(m[1])) return undefined
    out.push(m[1])
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]))
  }
  return out
}

/** Parse one command line argument; throws nothing, returns an issue instead. */
export function parseOverride(text: string): Override | PipelineIssue {
  const bad = (message: string): PipelineIssue => ({code: 'override.syntax', path: text, message, origin: {kind: 'override', text}})
  if (text.startsWith('~')) {
    const path = parsePath(text.slice(1))
    return path === undefined ? bad('expected `~key.path` to delete a key') : {op: 'delete', path, text}
  }
  const eq = text.indexOf('=')
  if (eq <= 0) return bad('expected `key.path=value` (or `~key.path` to delete a key)')
  const path = parsePath(text.slice(0, eq))
  if (path === undefined) return bad(`\`${text.slice(0, eq)}\` is not a key path like schedule.optimizer.lr`)
  return {op: 'set', path, raw: text.slice(eq + 1), text}
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/

/**
 * Type a raw string by the schemas that apply at its path: number, boolean, list, mapping,
 * null, string (in that order of preference). Unknown paths get YAML's own scalar typing.
 */
export function typeValue(params: {raw: string; schemas: Record<string, any>[]}): unknown {
  const {raw, schemas} = params
  const t = allowedTypes(schemas)
  const trimmed = raw.trim()
  if (t.size === 0) return yamlScalar(raw)
  if ((trimmed.startsWith('[') || trimmed.startsWith('{')) && (t.has('array') || t.has('object'))) return yamlScalar(raw)
  if (t.has('number') && NUMBER.test(trimmed)) return Number(trimmed)
  if (t.has('boolean') && (trimmed === 'true' || trimmed === 'false')) return trimmed === 'true'
  if (t.has('null') && (trimmed === 'null' || trimmed === '~')) return null
  if (t.has('array')) {
    if (trimmed === '') return []
    const items = schemas.map((s) => s.items).filter((s): s is Record<string, any> => isPlainObject(s))
    return trimmed.split(',').map((x) => typeValue({raw: x.trim(), schemas: items}))
  }
  if (t.has('string')) return raw
  // The schema wants something else (e.g. a number): keep YAML's reading so validation says what is wrong.
  return yamlScalar(raw)
}

function yamlScalar(raw: string): unknown {
  try {
    return parseYaml(raw)
  } catch {
    return raw
  }
}

/**
 * Apply overrides in order to `value` (mutated) and its origins. Problems (a path through a
 * scalar, deleting a key that is not there) come back as issues.
 */
export function applyOverrides(params: {
  value: Record<string, unknown>
  origins: OriginMap
  overrides: Override[]
  schema: Record<string, any>
}): PipelineIssue[] {
  const issues: PipelineIssue[] = []
  for (const o of params.overrides) {
    const origin: Origin = {kind: 'override', text: o.text}
    let parent: any = params.value
    let failed = false
    for (const [i, seg] of o.path.slice(0, -1).entries()) {
      let next = parent[seg as any]
      if (next === undefined || next === null) {
        if (o.op === 'delete') break
        next = typeof o.path[i + 1] === 'number' ? [] : {}
        parent[seg as any] = next
      }
      if (typeof next !== 'object') {
        issues.push({code: 'override.path', path: dotPath(o.path), message: `cannot go into ${dotPath(o.path.slice(0, i + 1))}: it is ${JSON.stringify(next)}, not a mapping or list`, origin})
        failed = true
        break
      }
      parent = next
    }
    if (failed) continue
    const last = o.path[o.path.length - 1]
    if (o.op === 'delete') {
      const exists = typeof parent === 'object' && parent !== null && (Array.isArray(parent) ? typeof last === 'number' && last < parent.length : Object.hasOwn(parent, last))
      if (!exists) {
        const siblings = isPlainObject(parent) ? Object.keys(parent) : []
        issues.push({code: 'override.path', path: dotPath(o.path), message: 'nothing to delete: the pipeline has no such key', origin, didYouMean: didYouMean({input: String(last), candidates: siblings})})
        continue
      }
      if (Array.isArray(parent)) parent.splice(last as number, 1)
      else delete parent[last]
      dropOriginsUnder(params.origins, o.path)
      continue
    }
    const schemas = schemasAtPath({schema: params.schema, value: params.value, path: o.path})
    parent[last as any] = typeValue({raw: o.raw, schemas})
    dropOriginsUnder(params.origins, o.path)
    params.origins.keys.set(pathKey(o.path), origin)
    params.origins.values.set(pathKey(o.path), origin)
  }
  return issues
}
