/**
 * The schema(s) that apply at a YAML path, given the current pipeline value: follows
 * `properties`, `items`, `$ref` to plugin fragments, and the `if/then/else` branches that
 * the value selects. Used to type command line overrides and whole-value `${env:...}`.
 */
import {isPlainObject} from './deep-merge.js'
import type {PathSegments} from './origins.js'

type Schema = Record<string, any>

/** Every schema in `root` that carries an `$id`, by id. */
function indexIds(root: Schema): Map<string, Schema> {
  const ids = new Map<string, Schema>()
  const walk = (s: unknown) => {
    if (!isPlainObject(s) && !Array.isArray(s)) return
    if (isPlainObject(s) && typeof s.$id === 'string') ids.set(s.$id, s)
    for (const v of Object.values(s as object)) walk(v)
  }
  walk(root)
  return ids
}

/** Minimal `if` evaluation: type, const/enum on properties, required, not. */
function matches(cond: Schema, v: unknown): boolean {
  if (cond.type !== undefined) {
    const t = cond.type
    const ok = t === 'object' ? isPlainObject(v) : t === 'array' ? Array.isArray(v) : t === 'number' ? typeof v === 'number' : typeof v === t
    if (!ok) return false
  }
  if (cond.not !== undefined && matches(cond.not, v)) return false
  if (Array.isArray(cond.required) && (!isPlainObject(v) || !cond.required.every((k: string) => k in v))) return false
  if (isPlainObject(cond.properties) && isPlainObject(v)) {
    for (const [k, sub] of Object.entries(cond.properties as Record<string, Schema>)) {
      if (!(k in v)) continue
      if ('const' in sub && v[k] !== sub.const) return false
      if (Array.isArray(sub.enum) && !sub.enum.includes(v[k])) return false
    }
  }
  return true
}

/** Expand a schema into the list of schemas that apply to value `v`. */
function expand(s: Schema, v: unknown, ids: Map<string, Schema>, depth = 0): Schema[] {
  if (depth > 20) return []
  const out: Schema[] = [s]
  if (typeof s.$ref === 'string' && ids.has(s.$ref)) out.push(...expand(ids.get(s.$ref)!, v, ids, depth + 1))
  for (const sub of (s.allOf ?? []) as Schema[]) out.push(...expand(sub, v, ids, depth + 1))
  for (const sub of [...((s.anyOf ?? []) as Schema[]), ...((s.oneOf ?? []) as Schema[])]) out.push(...expand(sub, v, ids, depth + 1))
  if (isPlainObject(s.if)) {
    // Unknown value (new key): both branches are candidates.
    if (v === undefined || matches(s.if, v)) {
      if (s.then) out.push(...expand(s.then, v, ids, depth + 1))
    }
    if (v === undefined || !matches(s.if, v)) {
      if (s.else) out.push(...expand(s.else, v, ids, depth + 1))
    }
  }
  return out
}

/** Schemas applying at `path` (empty when the path is not in the schema). */
export function schemasAtPath(params: {schema: Schema; value: unknown; path: PathSegments}): Schema[] {
  const ids = indexIds(params.schema)
  let cur: Schema[] = [params.schema]
  let v: unknown = params.value
  for (const seg of params.path) {
    const here = cur.flatMap((s) => expand(s, v, ids))
    const next: Schema[] = []
    for (const s of here) {
      if (typeof seg === 'string' && isPlainObject(s.properties) && seg in s.properties) next.push((s.properties as Record<string, Schema>)[seg])
      if ((typeof seg === 'number' || /^\d+$/.test(String(seg))) && isPlainObject(s.items)) next.push(s.items)
    }
    v = isPlainObject(v) ? v[String(seg)] : Array.isArray(v) ? v[Number(seg)] : undefined
    cur = next
    if (cur.length === 0) return []
  }
  return cur.flatMap((s) => expand(s, v, ids))
}

/** JSON types the schemas accept (from `type`, `enum`, `const`). */
export function allowedTypes(schemas: Schema[]): Set<string> {
  const types = new Set<string>()
  const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x)
  for (const s of schemas) {
    if (typeof s.type === 'string') types.add(s.type)
    if (Array.isArray(s.type)) for (const t of s.type) types.add(t)
    if (Array.isArray(s.enum)) for (const e of s.enum) types.add(typeOf(e))
    if ('const' in s) types.add(typeOf(s.const))
  }
  if (types.has('integer')) types.add('number')
  return types
}
