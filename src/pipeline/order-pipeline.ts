import type {PluginRegistry} from '../plugin/registry.js'
import {isPlainObject} from './deep-merge.js'
import type {PathSegments} from './origins.js'
import {buildPipelineSchema} from './pipeline-schema.js'
import {schemasAtPath} from './schema-at-path.js'

/**
 * The pipeline with the keys of every mapping in schema order (sections as documented,
 * options as their plugin declares them), for `validate --print` and resolved.yaml.
 * Keys the schema does not know keep their place after the known ones.
 */
export function orderPipeline(params: {value: Record<string, unknown>; registry: PluginRegistry}): Record<string, unknown> {
  const schema = buildPipelineSchema({registry: params.registry})
  const visit = (v: unknown, path: PathSegments): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => visit(x, [...path, i]))
    if (!isPlainObject(v)) return v
    const order: string[] = []
    for (const s of schemasAtPath({schema, value: params.value, path})) {
      for (const k of Object.keys((s.properties ?? {}) as object)) if (!order.includes(k)) order.push(k)
    }
    const keys = [...order.filter((k) => k in v), ...Object.keys(v).filter((k) => !order.includes(k))]
    return Object.fromEntries(keys.map((k) => [k, visit(v[k], [...path, k])]))
  }
  return visit(params.value, []) as Record<string, unknown>
}
