/**
 * Raw labels -> class indices. The class names come from, in this order: the `labels` option,
 * the dataset's own ClassLabel features, or the distinct labels of the train split (sorted:
 * numerically when all are numbers, else as strings). Under ClassLabel names an integer label
 * is the class index and -1 means "no label" (the `datasets` convention, e.g. IMDB's
 * `unsupervised` split); otherwise a label matches a name by its string form, and with a
 * `labels` option an integer that matches no name is the index of one.
 */
import type {RawLabel} from './read-labelled-file.js'

export interface LabelSet {
  names: string[]
  /** Where the names came from (for messages). */
  origin: 'option' | 'features' | 'train split'
  /** Integers are indices (ClassLabel names or a `labels` option). */
  integersAreIndices: boolean
}

/** The class names of a task (see the file comment). */
export function labelSet(p: {option?: string[]; features?: string[]; train: RawLabel[]}): LabelSet {
  if (p.option && p.option.length > 0) return {names: p.option.map(String), origin: 'option', integersAreIndices: true}
  if (p.features) return {names: p.features, origin: 'features', integersAreIndices: true}
  const seen = new Map<string, RawLabel>()
  for (const l of p.train) if (l !== null) seen.set(String(l), l)
  const values = [...seen.values()]
  const numeric = values.every((v) => typeof v === 'number')
  values.sort((a, b) => (numeric ? (a as number) - (b as number) : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
  return {names: values.map(String), origin: 'train split', integersAreIndices: false}
}

/** null = missing; -2 = not one of the names (unseen). */
export function labelIndex(raw: RawLabel, set: LabelSet, byName: Map<string, number>): number | null {
  if (raw === null) return null
  const named = byName.get(String(raw))
  const isInt = typeof raw === 'number' && Number.isInteger(raw)
  if (set.origin === 'features' && isInt) return raw === -1 ? null : raw >= 0 && raw < set.names.length ? raw : -2
  if (named !== undefined) return named
  // a `labels` option names the classes of integer labels 0..n-1 unless a name matches first
  if (set.integersAreIndices && isInt && (raw as number) >= 0 && (raw as number) < set.names.length) return raw as number
  return -2
}
