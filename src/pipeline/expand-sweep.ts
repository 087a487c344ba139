/**
 * A pipeline's `sweep:` section as variants, each a list of override strings (the same
 * `key.path=value` / `~key.path` forms as the command line, see overrides.ts):
 * - a mapping `{model.embedding_sharing: [gdes, es], loss.lambda: [10, 50]}` gives every
 *   combination (the product, first key slowest);
 * - a list `[{variant: gdes}, {variant: mlm, model.plugin: mlm, ~model.temperature: null}]`
 *   gives exactly those variants (`variant:` names one; `~key` deletes a key of the base).
 * Each variant is then loaded like `rtd run file overrides...`, so every check the pipeline
 * gets applies to every variant, and an issue an override causes is located at the sweep
 * entry that wrote it.
 */
import {isPlainObject} from './deep-merge.js'
import {loadPipeline, type LoadPipelineParams, type ResolvedPipeline} from './load-pipeline.js'
import {locate, type Origin, type OriginMap} from './origins.js'
import {parsePath} from './overrides.js'
import {PipelineInvalid, type PipelineIssue} from './pipeline-issue.js'
import {displayPath} from './resolve-extends.js'

/** The key of a list item that names its variant (no pipeline section is called that). */
export const VARIANT_NAME_KEY = 'variant'

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export interface SweepVariant {
  /** Folder name of the variant's run directory inside the sweep directory. */
  name: string
  /** Override strings that make this variant from the base pipeline, in order. */
  overrides: string[]
  /** Where each override was written in the sweep section (keyed by override text). */
  origins: Map<string, Origin>
}

/** `gdes`, `0.001`, `a-b` for a directory name; undefined when nothing usable is left. */
function slug(v: unknown): string | undefined {
  const s = (typeof v === 'string' ? v : JSON.stringify(v)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '')
  return s === '' ? undefined : s
}

/** `key=value` in the command line form: strings as written, everything else as YAML flow (JSON). */
function setText(key: string, value: unknown): string {
  return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`
}

/**
 * Expand `sweep` (from a loaded pipeline) into variants; problems in the section itself (a
 * malformed key path, a product entry that is not a list, clashing names) come back as issues
 * located in the file.
 */
export function expandSweep(params: {sweep: unknown; origins: OriginMap}): {variants: SweepVariant[]; issues: PipelineIssue[]} {
  const {sweep, origins} = params
  const issues: PipelineIssue[] = []
  const variants: SweepVariant[] = []
  const at = (path: (string | number)[], prefer: 'key' | 'value' = 'key') => locate(origins, ['sweep', ...path], prefer)
  const badKey = (key: string, path: (string | number)[]): boolean => {
    const plain = key.startsWith('~') ? key.slice(1) : key
    if (parsePath(plain) !== undefined && plain !== 'sweep' && !plain.startsWith('sweep.') && plain !== 'extends') return false
    issues.push({code: 'override.syntax', path: `sweep.${path.join('.')}`, message: `\`${key}\` is not a key path like model.embedding_sharing (sweep and extends cannot be swept)`, origin: at(path)})
    return true
  }

  if (isPlainObject(sweep)) {
    const axes: {key: string; values: unknown[]}[] = []
    for (const [key, values] of Object.entries(sweep)) {
      if (badKey(key, [key])) continue
      if (key.startsWith('~')) {
        issues.push({code: 'override.syntax', path: `sweep.${key}`, message: 'a sweep mapping gives values to try; to delete a key in some variants, write the sweep as a list of override sets', origin: at([key])})
        continue
      }
      if (!Array.isArray(values) || values.length === 0) {
        issues.push({code: 'schema.type', path: `sweep.${key}`, message: `expected a non-empty list of values to try, got ${JSON.stringify(values)}`, origin: at([key], 'value')})
        continue
      }
      axes.push({key, values})
    }
    if (issues.length > 0) return {variants, issues}
    let combos: {parts: string[]; overrides: string[]; origins: Map<string, Origin>}[] = [{parts: [], overrides: [], origins: new Map()}]
    for (const axis of axes) {
      const last = axis.key.split('.').at(-1)!
      combos = combos.flatMap((c) =>
        axis.values.map((v, i) => {
          const text = setText(axis.key, v)
          const part = slug(v) ?? `${i}`
          const origin = at([axis.key, i], 'value')
          return {
            // a lone key of words names variants by value (`gdes`); numbers get the key (`lr-0.001`)
            parts: [...c.parts, axes.length === 1 && typeof v === 'string' ? part : `${last}-${part}`],
            overrides: [...c.overrides, text],
            origins: new Map([...c.origins, ...(origin ? [[text, origin] as [string, Origin]] : [])]),
          }
        }),
      )
    }
    for (const c of combos) variants.push({name: c.parts.join('_'), overrides: c.overrides, origins: c.origins})
  } else if (Array.isArray(sweep)) {
    for (const [i, item] of sweep.entries()) {
      if (!isPlainObject(item)) {
        issues.push({code: 'schema.type', path: `sweep[${i}]`, message: `expected a mapping of key.path: value, got ${JSON.stringify(item)}`, origin: at([i], 'value')})
        continue
      }
      const overrides: string[] = []
      const where = new Map<string, Origin>()
      const parts: string[] = []
      let name: string | undefined
      for (const [key, value] of Object.entries(item)) {
        if (key === VARIANT_NAME_KEY) {
          if (typeof value !== 'string' || !NAME.test(value)) issues.push({code: 'schema.format', path: `sweep[${i}].${key}`, message: `a variant name is a folder name (letters, digits, . _ -), got ${JSON.stringify(value)}`, origin: at([i, key], 'value')})
          else name = value
          continue
        }
        if (badKey(key, [i, key])) continue
        const text = key.startsWith('~') ? key : setText(key, value)
        overrides.push(text)
        const origin = at([i, key])
        if (origin) where.set(text, origin)
        if (!key.startsWith('~')) parts.push(slug(value) ?? `${i}`)
      }
      variants.push({name: name ?? (parts.length > 0 ? parts.join('_') : `variant-${i + 1}`), overrides, origins: where})
    }
  } else {
    issues.push({code: 'schema.type', path: 'sweep', message: 'expected a mapping {key.path: [values]} or a list of override sets', origin: at([], 'value')})
  }
  const seen = new Map<string, number>()
  for (const v of variants) seen.set(v.name, (seen.get(v.name) ?? 0) + 1)
  for (const [name, n] of seen) {
    if (n > 1) issues.push({code: 'schema.constraint', path: 'sweep', message: `${n} variants are named \`${name}\`; give each a distinct \`${VARIANT_NAME_KEY}:\` name`, origin: at([], 'key')})
  }
  return {variants, issues}
}

export interface LoadedVariant {
  variant: SweepVariant
  /** The variant's pipeline, when it is valid. */
  pipeline?: ResolvedPipeline
  /** Why it is not, its issues located at the sweep entries that caused them. */
  error?: PipelineInvalid
}

export interface LoadedSweep {
  /** The pipeline as written (its `sweep:` section included). */
  base: ResolvedPipeline
  /** Undefined when the pipeline has no `sweep:` section. */
  variants?: LoadedVariant[]
}

/**
 * Load a pipeline and, when it has a `sweep:`, each of its variants (base overrides: the
 * variant's, then the command line's, so a command line override applies to every variant).
 * Throws PipelineInvalid when the base or the sweep section itself is invalid; a variant that
 * is invalid is returned with its error, so that `rtd validate` can report every variant.
 */
export async function loadSweep(params: LoadPipelineParams): Promise<LoadedSweep> {
  const base = await loadPipeline(params)
  if (base.value.sweep === undefined) return {base}
  const {variants, issues} = expandSweep({sweep: base.value.sweep, origins: base.origins})
  if (issues.length > 0) throw new PipelineInvalid({file: displayPath(base.file, params.cwd ?? process.cwd()), issues})
  const loaded: LoadedVariant[] = []
  for (const variant of variants) {
    try {
      const pipeline = await loadPipeline({...params, overrides: ['~sweep', ...variant.overrides, ...(params.overrides ?? [])]})
      loaded.push({variant, pipeline})
    } catch (error) {
      if (!(error instanceof PipelineInvalid)) throw error
      const located = error.issues.map((i) => (i.origin?.kind === 'override' && variant.origins.has(i.origin.text) ? {...i, origin: variant.origins.get(i.origin.text)} : i))
      loaded.push({variant, error: new PipelineInvalid({file: `${displayPath(base.file, params.cwd ?? process.cwd())} (variant ${variant.name})`, issues: located})})
    }
  }
  return {base, variants: loaded}
}

/** Every invalid variant's issues in one error (exit 2), each message naming its variant. */
export function sweepInvalid(params: {file: string; variants: LoadedVariant[]}): PipelineInvalid | undefined {
  const bad = params.variants.filter((v) => v.error !== undefined)
  if (bad.length === 0) return undefined
  const issues = bad.flatMap((v) => v.error!.issues.map((i) => ({...i, message: `variant ${v.variant.name}: ${i.message}`})))
  return new PipelineInvalid({file: params.file, issues})
}
