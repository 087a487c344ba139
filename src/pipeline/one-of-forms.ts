/**
 * Sections that come in exclusive forms: a schema whose `oneOf` branches only say which key is
 * required (`data.source`: `hub` | `files` | `package`; `data.tokenizer`: `from` | `train`).
 * Under `extends`, such a section given in a different form than its base's replaces the base's
 * section instead of merging into it: merging would keep the base's key and give two forms.
 */
import {isPlainObject, type ReplaceWhole} from './deep-merge.js'
import {schemasAtPath} from './schema-at-path.js'

type Schema = Record<string, any>

/** The forms' keys (one list per branch) when `schema` is a forms `oneOf`, else undefined. */
export function oneOfForms(schema: unknown): string[][] | undefined {
  if (!isPlainObject(schema) || !Array.isArray(schema.oneOf) || schema.oneOf.length < 2) return undefined
  const forms: string[][] = []
  for (const branch of schema.oneOf as unknown[]) {
    if (!isPlainObject(branch) || Object.keys(branch).length !== 1 || !Array.isArray(branch.required) || branch.required.length === 0) return undefined
    forms.push(branch.required.map(String))
  }
  return forms
}

/** Index of the form `v` is written in (its keys include that form's), or -1. */
export function formIndex(forms: string[][], v: Record<string, unknown>): number {
  return forms.findIndex((keys) => keys.every((k) => k in v))
}

/**
 * The `extends` rule: replace where base and top are each in one form and the forms differ.
 * `value` (the pipeline merged without the rule) picks the plugin branches of the schema.
 */
export function replaceOnFormChange(params: {schema: Schema; value: unknown}): ReplaceWhole {
  return ({path, base, top}) => {
    for (const s of schemasAtPath({schema: params.schema, value: params.value, path})) {
      const forms = oneOfForms(s)
      if (forms === undefined) continue
      const b = formIndex(forms, base)
      const t = formIndex(forms, top)
      if (b >= 0 && t >= 0 && b !== t) return true
    }
    return false
  }
}
