/**
 * Schema fragments that several plugins' options share, so they are written once: a plugin's
 * schema.json refers to one with `{"$ref": "https://rtd.dev/schemas/fragments/<name>.json"}`
 * (its own `description` / `default` may sit beside the `$ref`). The pipeline schema carries
 * them in `$defs` by `$id` (so the one validator resolves them); the standalone files under
 * schemas/plugins/ have them inlined (inlineFragments), so editors need nothing else.
 */
import {MASK_RECIPES} from '../config/enums.js'
import type {JsonSchema} from '../plugin/contract.js'

export const fragmentId = (name: string): string => `https://rtd.dev/schemas/fragments/${name}.json`

/** Dynamic masking of the generator (or MLM) input. */
const MASKING = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rate: {type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.15, description: 'Fraction of non-special tokens selected.'},
    recipe: {type: 'string', enum: MASK_RECIPES, default: 'all-mask', description: 'all-mask: every selected token -> [MASK] (DeBERTaV3); 80-10-10: BERT; electra: 85% [MASK], 15% kept.'},
  },
} as const

/** Fragment $id -> fragment (with its $id). */
export const SHARED_FRAGMENTS: ReadonlyMap<string, JsonSchema> = new Map(
  Object.entries({masking: MASKING}).map(([name, s]) => [fragmentId(name), {$id: fragmentId(name), ...s}]),
)

/** `schema` with every `$ref` to a shared fragment replaced by the fragment (siblings of the `$ref` kept). */
export function inlineFragments<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => inlineFragments(s)) as T
  if (typeof schema !== 'object' || schema === null) return schema
  const {$ref, ...rest} = schema as Record<string, unknown>
  const out: Record<string, unknown> = {}
  if (typeof $ref === 'string' && SHARED_FRAGMENTS.has($ref)) {
    const {$id: _id, ...fragment} = SHARED_FRAGMENTS.get($ref)! as Record<string, unknown>
    Object.assign(out, inlineFragments(fragment))
  } else if ($ref !== undefined) {
    out.$ref = $ref
  }
  for (const [k, v] of Object.entries(rest)) out[k] = inlineFragments(v)
  return out as T
}
