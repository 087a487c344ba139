import type {PathSegments} from './origins.js'

/** Whether `top` replaces `base` at `path` as a whole rather than merging into it. */
export type ReplaceWhole = (p: {path: PathSegments; base: Record<string, unknown>; top: Record<string, unknown>}) => boolean

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * `extends` semantics: objects merge key by key, recursively; arrays and scalars from `top`
 * replace those of `base`; a key written `~name` in `top` deletes `name` from `base` (the same
 * `~` as command-line deletions), e.g. an ablation that swaps a plugin drops the old plugin's
 * options. A mapping for which `replaceWhole` says yes (a section given in another of its
 * one-of forms, e.g. `data.source` as `files` over a base's `package`) replaces the base's
 * mapping instead of merging into it. Returns a new value; `replaced` collects the paths where
 * `top` replaced (or added) a whole value, so origins under them can be taken from `top`.
 */
export function deepMerge(params: {
  base: unknown
  top: unknown
  path?: PathSegments
  replaced?: PathSegments[]
  replaceWhole?: ReplaceWhole
}): unknown {
  const path = params.path ?? []
  const {base, top} = params
  if (isPlainObject(base) && isPlainObject(top) && params.replaceWhole?.({path, base, top}) === true) {
    params.replaced?.push(path)
    return Object.fromEntries(Object.entries(top).filter(([k]) => !(k.startsWith('~') && k.length > 1)))
  }
  if (isPlainObject(base) && isPlainObject(top)) {
    const out: Record<string, unknown> = {...base}
    for (const [k, v] of Object.entries(top)) {
      if (k.startsWith('~') && k.length > 1) {
        delete out[k.slice(1)]
        continue
      }
      out[k] = k in base ? deepMerge({base: base[k], top: v, path: [...path, k], replaced: params.replaced, replaceWhole: params.replaceWhole}) : v
      if (!(k in base)) params.replaced?.push([...path, k])
    }
    return out
  }
  params.replaced?.push(path)
  return top
}
