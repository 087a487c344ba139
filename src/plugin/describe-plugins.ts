/** What `rtd plugins` shows: each plugin with its kind, source and options (from its schema). */

import type {PluginKind} from './contract.js'
import type {PluginRegistry} from './registry.js'

export interface PluginOptionInfo {
  name: string
  /** `integer`, `string`, `"a" | "b"`, ... */
  type: string
  required: boolean
  default?: unknown
  description?: string
}

export interface PluginInfo {
  name: string
  kind: PluginKind
  summary: string
  /** `built-in` or the module it was loaded from. */
  source: string
  options: PluginOptionInfo[]
}

function typeOf(s: Record<string, any>): string {
  if (Array.isArray(s.enum)) return s.enum.map((e: unknown) => JSON.stringify(e)).join(' | ')
  if ('const' in s) return JSON.stringify(s.const)
  if (Array.isArray(s.type)) return s.type.join(' | ')
  if (s.type === 'array' && s.items?.type) return `${s.items.type}[]`
  if (typeof s.type === 'string') return s.type
  const alts = (s.anyOf ?? s.oneOf) as Record<string, any>[] | undefined
  return alts ? alts.map(typeOf).join(' | ') : 'any'
}

export function describePlugins(params: {registry: PluginRegistry; kind?: PluginKind}): PluginInfo[] {
  return params.registry.list(params.kind).map(({plugin, source}) => {
    const schema = plugin.schema as Record<string, any>
    const required = new Set<string>(schema.required ?? [])
    const options = Object.entries((schema.properties ?? {}) as Record<string, Record<string, any>>).map(([name, s]) => ({
      name,
      type: typeOf(s),
      required: required.has(name),
      ...('default' in s ? {default: s.default} : {}),
      ...(typeof s.description === 'string' ? {description: s.description} : {}),
    }))
    return {name: plugin.name, kind: plugin.kind, summary: plugin.summary, source, options}
  })
}

/** Plain-text listing for the terminal. */
export function formatPlugins(infos: PluginInfo[]): string {
  if (infos.length === 0) return 'No plugins are available. Name external plugin modules under `plugins:` in a pipeline (see --pipeline).'
  const blocks = infos.map((p) => {
    const head = `${p.kind}/${p.name}${p.source === 'built-in' ? '' : `  (from ${p.source})`}\n  ${p.summary}`
    const opts = p.options.map((o) => {
      const dflt = o.default === undefined ? (o.required ? ' (required)' : '') : ` = ${JSON.stringify(o.default)}`
      return `    ${o.name}: ${o.type}${dflt}${o.description ? `\n        ${o.description}` : ''}`
    })
    return [head, opts.length > 0 ? '  options:' : '  options: none', ...opts].join('\n')
  })
  return blocks.join('\n\n')
}

