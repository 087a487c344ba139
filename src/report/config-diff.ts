/** Differences between runs' resolved pipelines (or any JSON-like records), as dotted keys. */

/** Dotted leaves of a value: {a: {b: 1}, c: [1, 2]} -> {'a.b': 1, c: [1, 2]} (lists are leaves). */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0 && prefix) out[prefix] = {}
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else if (prefix) out[prefix] = value
  return out
}

export interface KeyDifference {
  key: string
  /** One value per record, in order; undefined where the key is absent. */
  values: unknown[]
}

/** Every dotted key whose value is not the same in all records, sorted by key. */
export function differences(records: unknown[], opts: {ignore?: (key: string) => boolean} = {}): KeyDifference[] {
  const flat = records.map((r) => flatten(r))
  const keys = new Set(flat.flatMap((f) => Object.keys(f)))
  const out: KeyDifference[] = []
  for (const key of [...keys].sort()) {
    if (opts.ignore?.(key)) continue
    const values = flat.map((f) => f[key])
    const first = JSON.stringify(values[0])
    if (values.some((v) => JSON.stringify(v) !== first)) out.push({key, values})
  }
  return out
}

/** A value for a table cell: strings bare, absent as an em dash, the rest as JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return '—'
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}
