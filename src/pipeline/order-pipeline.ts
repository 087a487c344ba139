import {PIPELINE_SECTIONS} from './enums.js'

/** The pipeline with its sections in the documented order (for printing). */
export function orderPipeline(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of PIPELINE_SECTIONS) if (k in value) out[k] = value[k]
  for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v
  return out
}
