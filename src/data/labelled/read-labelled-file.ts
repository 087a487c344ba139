/**
 * Labelled examples (a text and a label per row) from one local file: jsonl, json, csv/tsv,
 * parquet or arrow, with configurable column names. Labels stay raw here (numbers, strings,
 * booleans, or null when missing); label-labelled-data.ts turns them into class indices. Where a
 * Parquet file carries the Hugging Face `datasets` features (key-value metadata `huggingface`),
 * the label column's ClassLabel names come with it.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {tableFromIPC} from 'apache-arrow'
import {parquetMetadata, parquetReadObjects, parquetSchema} from 'hyparquet'
import {ConfigError, RuntimeFailure} from '../../errors.js'
import {decodeUtf8} from '../decode-utf8.js'
import {parseCsv} from './parse-csv.js'

export const LABELLED_FORMATS = ['auto', 'jsonl', 'json', 'csv', 'tsv', 'parquet', 'arrow'] as const
export type LabelledFormat = (typeof LABELLED_FORMATS)[number]

/** A label as the file holds it; null = missing. */
export type RawLabel = string | number | boolean | null

export interface LabelledRows {
  texts: string[]
  labels: RawLabel[]
  /** Where row i came from, for messages: `file:line` or `file row i`. */
  where(i: number): string
  /** ClassLabel names of the label column from the dataset's own features, when the file has them. */
  labelNames?: string[]
}

const EXTENSIONS: Record<string, Exclude<LabelledFormat, 'auto'>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
}

export function labelledFormatOf(file: string, format: LabelledFormat): Exclude<LabelledFormat, 'auto'> {
  if (format !== 'auto') return format
  const f = EXTENSIONS[path.extname(file).toLowerCase()]
  if (!f) {
    throw new ConfigError(`cannot tell the format of ${file} from its extension.`, {
      code: 'data.unknown_format',
      suggestions: [`Set \`format\` to one of ${[...new Set(Object.values(EXTENSIONS))].join(', ')}.`],
    })
  }
  return f
}

export async function readLabelledFile(p: {file: string; format: LabelledFormat; textColumn: string; labelColumn: string}): Promise<LabelledRows> {
  const format = labelledFormatOf(p.file, p.format)
  let bytes: Uint8Array
  try {
    bytes = fs.readFileSync(p.file)
  } catch (error) {
    throw new RuntimeFailure(`cannot read labelled data file ${p.file}: ${(error as Error).message}`, {
      code: 'data.source_unreadable',
      cause: error,
      suggestions: ['Check that the file exists and is readable.'],
    })
  }
  switch (format) {
    case 'jsonl':
      return readJsonl({...p, bytes})
    case 'json':
      return readJson({...p, bytes})
    case 'csv':
    case 'tsv':
      return readCsv({...p, bytes, delimiter: format === 'tsv' ? '\t' : ','})
    case 'parquet':
      return readParquet({...p, bytes})
    case 'arrow':
      return readArrow({...p, bytes})
  }
}

type Read = {file: string; bytes: Uint8Array; textColumn: string; labelColumn: string}

function missingColumn(p: {file: string; column: string; role: string; columns: string[]}): ConfigError {
  return new ConfigError(`${p.role} column "${p.column}" not found in ${p.file}; its columns are: ${p.columns.map((c) => `"${c}"`).join(', ') || '(none)'}.`, {
    code: 'data.column_missing',
    suggestions: [`Set \`data.${p.role}_column\` to one of the columns listed.`],
  })
}

function text(v: unknown, file: string, where: string, column: string): string {
  if (v === null || v === undefined) return ''
  if (typeof v !== 'string') throw new ConfigError(`${file} ${where}: text column "${column}" holds ${typeof v}, expected a string.`, {code: 'data.column_type'})
  return v
}

function rawLabel(v: unknown, file: string, where: string, column: string): RawLabel {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'number' || typeof v === 'boolean') return v
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim()
  throw new ConfigError(`${file} ${where}: label column "${column}" holds ${Array.isArray(v) ? 'a list' : typeof v}; expected one label (a string or an integer) per row.`, {code: 'data.column_type'})
}

function fromRecords(p: Read & {records: {rec: unknown; where: string}[]}): LabelledRows {
  const texts: string[] = []
  const labels: RawLabel[] = []
  const wheres: string[] = []
  for (const {rec, where} of p.records) {
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new ConfigError(`${p.file} ${where}: expected an object with "${p.textColumn}" and "${p.labelColumn}" fields, got ${JSON.stringify(rec)?.slice(0, 60)}.`, {code: 'data.invalid_record'})
    }
    const r = rec as Record<string, unknown>
    if (!(p.textColumn in r)) throw missingColumn({file: `${p.file} ${where}`, column: p.textColumn, role: 'text', columns: Object.keys(r)})
    texts.push(text(r[p.textColumn], p.file, where, p.textColumn))
    labels.push(rawLabel(r[p.labelColumn], p.file, where, p.labelColumn))
    wheres.push(where)
  }
  return {texts, labels, where: (i) => `${p.file} ${wheres[i]}`}
}

function readJsonl(p: Read): LabelledRows {
  const lines = decodeUtf8({bytes: p.bytes, file: p.file}).split(/\r?\n/)
  const records: {rec: unknown; where: string}[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue
    try {
      records.push({rec: JSON.parse(lines[i]), where: `line ${i + 1}`})
    } catch (error) {
      throw new ConfigError(`${p.file}:${i + 1} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
    }
  }
  return fromRecords({...p, records})
}

function readJson(p: Read): LabelledRows {
  let value: unknown
  try {
    value = JSON.parse(decodeUtf8({bytes: p.bytes, file: p.file}))
  } catch (error) {
    throw new ConfigError(`${p.file} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
  }
  if (Array.isArray(value)) return fromRecords({...p, records: value.map((rec, i) => ({rec, where: `item ${i}`}))})
  if (value && typeof value === 'object') {
    // columnar: {"text": [...], "label": [...]}
    const v = value as Record<string, unknown>
    const t = v[p.textColumn]
    const l = v[p.labelColumn]
    if (!Array.isArray(t)) throw missingColumn({file: p.file, column: p.textColumn, role: 'text', columns: Object.keys(v)})
    const labels = Array.isArray(l) ? l : []
    return {
      texts: t.map((x, i) => text(x, p.file, `${p.textColumn}[${i}]`, p.textColumn)),
      labels: t.map((_, i) => rawLabel(labels[i], p.file, `${p.labelColumn}[${i}]`, p.labelColumn)),
      where: (i) => `${p.file} ${p.textColumn}[${i}]`,
    }
  }
  throw new ConfigError(`${p.file}: expected a JSON array of records, or {"${p.textColumn}": [...], "${p.labelColumn}": [...]}.`, {code: 'data.invalid_record'})
}

function readCsv(p: Read & {delimiter: string}): LabelledRows {
  const rows = parseCsv({text: decodeUtf8({bytes: p.bytes, file: p.file}), delimiter: p.delimiter, file: p.file})
  if (rows.length === 0) return {texts: [], labels: [], where: () => p.file}
  const header = rows[0].fields
  const ti = header.indexOf(p.textColumn)
  const li = header.indexOf(p.labelColumn)
  if (ti < 0) throw missingColumn({file: p.file, column: p.textColumn, role: 'text', columns: header})
  const texts: string[] = []
  const labels: RawLabel[] = []
  const lines: number[] = []
  for (const row of rows.slice(1)) {
    if (row.fields.length === 1 && row.fields[0] === '') continue // blank line
    texts.push(row.fields[ti] ?? '')
    labels.push(li < 0 ? null : rawLabel(row.fields[li], p.file, `line ${row.line}`, p.labelColumn))
    lines.push(row.line)
  }
  return {texts, labels, where: (i) => `${p.file}:${lines[i]}`}
}

/** ClassLabel names of `column` from a `datasets` features record, if it has them. */
export function classLabelNames(features: unknown, column: string): string[] | undefined {
  const f = (features as Record<string, any> | undefined)?.[column]
  if (f && typeof f === 'object' && f._type === 'ClassLabel' && Array.isArray(f.names) && f.names.every((n: unknown) => typeof n === 'string')) return f.names
  return undefined
}

async function readParquet(p: Read): Promise<LabelledRows> {
  const buf = p.bytes.buffer.slice(p.bytes.byteOffset, p.bytes.byteOffset + p.bytes.byteLength) as ArrayBuffer
  let columns: string[]
  let meta
  try {
    meta = parquetMetadata(buf)
    columns = parquetSchema(meta).children.map((c) => c.element.name)
  } catch (error) {
    throw new ConfigError(`${p.file} is not a readable Parquet file: ${(error as Error).message}`, {code: 'data.source_unreadable', cause: error})
  }
  if (!columns.includes(p.textColumn)) throw missingColumn({file: p.file, column: p.textColumn, role: 'text', columns})
  const hasLabel = columns.includes(p.labelColumn)
  let labelNames: string[] | undefined
  const hf = meta.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value
  if (hf) {
    try {
      labelNames = classLabelNames(JSON.parse(hf)?.info?.features, p.labelColumn)
    } catch {
      // metadata we cannot read only costs the label names
    }
  }
  const rows = await parquetReadObjects({file: buf, columns: hasLabel ? [p.textColumn, p.labelColumn] : [p.textColumn]})
  return {
    texts: rows.map((r, i) => text(r[p.textColumn], p.file, `row ${i}`, p.textColumn)),
    labels: rows.map((r, i) => (hasLabel ? rawLabel(r[p.labelColumn], p.file, `row ${i}`, p.labelColumn) : null)),
    where: (i) => `${p.file} row ${i}`,
    ...(labelNames ? {labelNames} : {}),
  }
}

function readArrow(p: Read): LabelledRows {
  let table
  try {
    table = tableFromIPC(p.bytes)
  } catch (error) {
    throw new ConfigError(`${p.file} is not a readable Arrow IPC file: ${(error as Error).message}`, {code: 'data.source_unreadable', cause: error})
  }
  const columns = table.schema.fields.map((f) => f.name)
  const t = table.getChild(p.textColumn)
  if (!t) throw missingColumn({file: p.file, column: p.textColumn, role: 'text', columns})
  const l = table.getChild(p.labelColumn)
  const texts: string[] = []
  const labels: RawLabel[] = []
  for (let i = 0; i < t.length; i++) {
    texts.push(text(t.get(i), p.file, `row ${i}`, p.textColumn))
    labels.push(l ? rawLabel(l.get(i), p.file, `row ${i}`, p.labelColumn) : null)
  }
  return {texts, labels, where: (i) => `${p.file} row ${i}`}
}
