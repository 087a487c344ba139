/**
 * Where each value of a pipeline was written, so an issue can name file:line:col of the
 * offending node in the file that wrote it (the top file, an `extends` base, or a command
 * line override), even after merging.
 */

export type Origin =
  | {kind: 'file'; file: string; line: number; col: number}
  | {kind: 'override'; text: string}

/** A YAML path as segments: ['schedule', 'optimizer', 'lr'] or ['plugins', 0]. */
export type PathSegments = (string | number)[]

/** Origins of keys (where `lr:` was written) and of values (where `1e-4` was written). */
export interface OriginMap {
  keys: Map<string, Origin>
  values: Map<string, Origin>
}

export function emptyOriginMap(): OriginMap {
  return {keys: new Map(), values: new Map()}
}

/** Stable map key for a path. */
export function pathKey(path: PathSegments): string {
  return JSON.stringify(path)
}

/** `schedule.optimizer.lr`, `plugins[0]`; the root is `(root)`. */
export function dotPath(path: PathSegments): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += out === '' ? seg : `.${seg}`
  }
  return out === '' ? '(root)' : out
}

export function formatOrigin(origin: Origin | undefined): string {
  if (origin === undefined) return '(default)'
  if (origin.kind === 'override') return `command line override \`${origin.text}\``
  return `${origin.file}:${origin.line}:${origin.col}`
}

/** True when `path` is `prefix` or lies under it. */
export function isUnder(path: PathSegments, prefix: PathSegments): boolean {
  if (path.length < prefix.length) return false
  return prefix.every((seg, i) => path[i] === seg)
}

/** Remove every origin at or under `prefix`. */
export function dropOriginsUnder(map: OriginMap, prefix: PathSegments): void {
  for (const m of [map.keys, map.values]) {
    for (const k of [...m.keys()]) {
      if (isUnder(JSON.parse(k) as PathSegments, prefix)) m.delete(k)
    }
  }
}

/**
 * The origin to report for an issue at `path`: the value's own origin, else its key's, else
 * the nearest ancestor's (a missing key is reported where its parent was written).
 */
export function locate(map: OriginMap, path: PathSegments, prefer: 'key' | 'value' = 'value'): Origin | undefined {
  for (let len = path.length; len >= 0; len--) {
    const k = pathKey(path.slice(0, len))
    const first = prefer === 'key' ? map.keys : map.values
    const second = prefer === 'key' ? map.values : map.keys
    const o = first.get(k) ?? second.get(k)
    if (o !== undefined) return o
  }
  return undefined
}
