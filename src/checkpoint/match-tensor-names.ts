/**
 * Compare the tensors a model expects with those a checkpoint holds. Missing, unexpected or
 * wrongly shaped tensors are errors that list the names, except the documented extras of
 * Microsoft's released files (SPEC B.4).
 */
import {RuntimeFailure} from '../errors.js'

export interface ShapeMismatch {
  name: string
  expected: number[]
  got: number[]
}

export interface TensorNameMatch {
  missing: string[]
  unexpected: string[]
  mismatched: ShapeMismatch[]
  /** Extra tensors the allow-list accepted (reported, not loaded). */
  ignored: string[]
}

/**
 * Extras found in microsoft/deberta-v3-* files that a DebertaV2 model does not use (SPEC B.4):
 * the absolute position table when position_biased_input is false, the MLM head (`lm_predictions.*`)
 * in discriminator files, the RTD head (`mask_predictions.*`) and the raw GDES deltas (`*._weight`).
 */
export function documentedExtras(opts: {positionBiasedInput: boolean; role: 'discriminator' | 'generator'}): RegExp[] {
  const extras: RegExp[] = [/^mask_predictions\./, /(^|\.)embeddings\.(word|position)_embeddings\._weight$/]
  if (!opts.positionBiasedInput) extras.push(/(^|\.)embeddings\.position_embeddings\.weight$/)
  if (opts.role === 'discriminator') extras.push(/^lm_predictions\./)
  return extras
}

export function matchTensorNames(opts: {
  expected: Map<string, number[]>
  got: Map<string, {shape: number[]}>
  /** Names (exact) or patterns of extra tensors that are tolerated. */
  allowedExtras?: (string | RegExp)[]
}): TensorNameMatch {
  const {expected, got} = opts
  const allowed = opts.allowedExtras ?? []
  const isAllowed = (n: string): boolean => allowed.some((a) => (typeof a === 'string' ? a === n : a.test(n)))
  const missing: string[] = []
  const mismatched: ShapeMismatch[] = []
  for (const [name, shape] of expected) {
    const t = got.get(name)
    if (!t) missing.push(name)
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) mismatched.push({name, expected: [...shape], got: [...t.shape]})
  }
  const unexpected: string[] = []
  const ignored: string[] = []
  for (const name of got.keys()) {
    if (expected.has(name)) continue
    if (isAllowed(name)) ignored.push(name)
    else unexpected.push(name)
  }
  return {missing, unexpected, mismatched, ignored}
}

/** matchTensorNames, throwing one error that lists every problem. Returns the match on success. */
export function assertTensorNames(opts: Parameters<typeof matchTensorNames>[0] & {/** e.g. the checkpoint path */ source: string}): TensorNameMatch {
  const m = matchTensorNames(opts)
  if (m.missing.length + m.unexpected.length + m.mismatched.length === 0) return m
  const lines: string[] = []
  const list = (xs: string[]): string => xs.slice(0, 50).join(', ') + (xs.length > 50 ? `, ... (${xs.length - 50} more)` : '')
  if (m.missing.length > 0) lines.push(`missing (${m.missing.length}): ${list(m.missing)}`)
  if (m.unexpected.length > 0) lines.push(`unexpected (${m.unexpected.length}): ${list(m.unexpected)}`)
  if (m.mismatched.length > 0) lines.push(`wrong shape (${m.mismatched.length}): ${list(m.mismatched.map((x) => `${x.name} expected ${JSON.stringify(x.expected)} got ${JSON.stringify(x.got)}`))}`)
  throw new RuntimeFailure(`${opts.source}: the checkpoint does not fit the model\n  ${lines.join('\n  ')}`, {
    code: 'checkpoint.tensor_mismatch',
    suggestions: ['Check that config.json belongs to these weights (hidden_size, num_hidden_layers, vocab_size)'],
  })
}
