import {createHash} from 'node:crypto'

/** sha256 (hex, first `length` chars) of a JSON value with object keys sorted, so key order never matters. */
export function stableHash(value: unknown, length = 24): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, length)
}

export function stableJson(value: unknown): string {
  if (value === undefined) return 'null'
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return '[' + value.map(stableJson).join(',') + ']'
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + stableJson((value as Record<string, unknown>)[k])).join(',') + '}'
}
