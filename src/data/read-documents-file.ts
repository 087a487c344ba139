import * as fs from 'node:fs'
import * as path from 'node:path'
import {tableFromIPC} from 'apache-arrow'
import {parquetMetadata, parquetReadObjects, parquetSchema} from 'hyparquet'
import {ConfigError, RuntimeFailure} from '../errors.js'
import {decodeUtf8} from './decode-utf8.js'
import {PARQUET_CODECS, parquetCompressors} from './parquet-codecs.js'
import type {FileFormat, TxtMode} from './prepared-data.js'

export type ConcreteFormat = Exclude<FileFormat, 'auto'>

const EXTENSIONS: Record<string, ConcreteFormat> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
}

export function formatOf(file: string, format: FileFormat): ConcreteFormat {
  if (format !== 'auto') return format
  const f = EXTENSIONS[path.extname(file).toLowerCase()]
  if (!f) {
    throw new ConfigError(`cannot tell the format of ${file} from its extension.`, {
      code: 'data.unknown_format',
      suggestions: [`Set \`data.source.format\` to one of ${Object.values(EXTENSIONS).filter((v, i, a) => a.indexOf(v) === i).join(', ')}.`],
    })
  }
  return f
}

/**
 * The documents (texts) in one file. Empty and whitespace-only documents are dropped.
 * `column` applies to jsonl / json / parquet / arrow.
 */
export async function readDocumentsFile(params: {
  file: string
  format: FileFormat
  column: string
  txtMode: TxtMode
}): Promise<string[]> {
  const {file, column} = params
  const format = formatOf(file, params.format)
  let bytes: Uint8Array
  try {
    bytes = fs.readFileSync(file)
  } catch (error) {
    throw new RuntimeFailure(`cannot read data source file ${file}: ${(error as Error).message}`, {
      code: 'data.source_unreadable',
      cause: error,
      suggestions: ['Check that the file exists and is readable.'],
    })
  }
  let docs: string[]
  switch (format) {
    case 'txt': {
      const text = decodeUtf8({bytes, file})
      docs = params.txtMode === 'line' ? text.split(/\r?\n/) : text.split(/\r?\n[ \t]*\r?\n/)
      break
    }
    case 'jsonl': {
      const text = decodeUtf8({bytes, file})
      docs = []
      const lines = text.split(/\r?\n/)
      for (let i = 0; i < lines.length; i++) {
        if (lines[i].trim() === '') continue
        let rec: unknown
        try {
          rec = JSON.parse(lines[i])
        } catch (error) {
          throw new ConfigError(`${file}:${i + 1} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
        }
        docs.push(pickColumn({rec, column, file, where: `line ${i + 1}`}))
      }
      break
    }
    case 'json': {
      const text = decodeUtf8({bytes, file})
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
      }
      docs = jsonDocuments({value, column, file})
      break
    }
    case 'parquet':
      docs = await readParquet({bytes, file, column})
      break
    case 'arrow':
      docs = readArrow({bytes, file, column})
      break
  }
  return docs.map((d) => d.trim()).filter((d) => d.length > 0)
}

function columnError(params: {file: string; column: string; columns: string[]}): ConfigError {
  return new ConfigError(
    `column "${params.column}" not found in ${params.file}; its columns are: ${params.columns.map((c) => `"${c}"`).join(', ') || '(none)'}.`,
    {code: 'data.column_missing', suggestions: ['Set `data.source.column` to one of the columns listed.']},
  )
}

function pickColumn(params: {rec: unknown; column: string; file: string; where: string}): string {
  const {rec, column, file} = params
  if (typeof rec === 'string') return rec
  if (rec && typeof rec === 'object' && !Array.isArray(rec)) {
    const v = (rec as Record<string, unknown>)[column]
    if (v === undefined) throw columnError({file, column, columns: Object.keys(rec)})
    if (v === null) return ''
    if (typeof v !== 'string') {
      throw new ConfigError(`${file} ${params.where}: column "${column}" holds ${typeof v}, expected a string.`, {code: 'data.column_type'})
    }
    return v
  }
  throw new ConfigError(`${file} ${params.where}: expected an object with a "${column}" field or a string, got ${JSON.stringify(rec)?.slice(0, 60)}.`, {
    code: 'data.invalid_record',
  })
}

/** A JSON file is an array of records or strings, or columnar `{column: [...]}`. */
function jsonDocuments(params: {value: unknown; column: string; file: string}): string[] {
  const {value, column, file} = params
  if (Array.isArray(value)) return value.map((rec, i) => pickColumn({rec, column, file, where: `item ${i}`}))
  if (value && typeof value === 'object') {
    const v = (value as Record<string, unknown>)[column]
    if (Array.isArray(v)) return v.map((rec, i) => pickColumn({rec, column, file, where: `${column}[${i}]`}))
    throw columnError({file, column, columns: Object.keys(value)})
  }
  throw new ConfigError(`${file}: expected a JSON array of records or strings, got ${typeof value}.`, {code: 'data.invalid_record'})
}

async function readParquet(params: {bytes: Uint8Array; file: string; column: string}): Promise<string[]> {
  const {file, column} = params
  const buf = params.bytes.buffer.slice(params.bytes.byteOffset, params.bytes.byteOffset + params.bytes.byteLength) as ArrayBuffer
  let columns: string[]
  try {
    columns = parquetSchema(parquetMetadata(buf)).children.map((c) => c.element.name)
  } catch (error) {
    throw new ConfigError(`${file} is not a readable Parquet file: ${(error as Error).message}`, {
      code: 'data.source_unreadable',
      cause: error,
      suggestions: ['Check that the file is Parquet (or set `data.source.format`).'],
    })
  }
  if (!columns.includes(column)) throw columnError({file, column, columns})
  let rows: Record<string, unknown>[]
  try {
    rows = await parquetReadObjects({file: buf, columns: [column], compressors: await parquetCompressors()})
  } catch (error) {
    throw new ConfigError(`${file}: cannot decode column "${column}": ${(error as Error).message}`, {
      code: 'data.source_unreadable',
      cause: error,
      suggestions: [`Parquet codecs rtd reads: ${PARQUET_CODECS.join(', ')}; rewrite the file with one of them (e.g. zstd or snappy).`],
    })
  }
  return rows.map((r, i) => {
    const v = r[column]
    if (v === null || v === undefined) return ''
    if (typeof v !== 'string') throw new ConfigError(`${file} row ${i}: column "${column}" is not a string column.`, {code: 'data.column_type'})
    return v
  })
}

function readArrow(params: {bytes: Uint8Array; file: string; column: string}): string[] {
  const {file, column} = params
  let table
  try {
    table = tableFromIPC(params.bytes)
  } catch (error) {
    throw new ConfigError(`${file} is not a readable Arrow IPC file: ${(error as Error).message}`, {code: 'data.source_unreadable', cause: error})
  }
  const vec = table.getChild(column)
  if (!vec) throw columnError({file, column, columns: table.schema.fields.map((f) => f.name)})
  const out: string[] = new Array(vec.length)
  for (let i = 0; i < vec.length; i++) {
    const v = vec.get(i)
    if (v !== null && typeof v !== 'string') throw new ConfigError(`${file} row ${i}: column "${column}" is not a string column.`, {code: 'data.column_type'})
    out[i] = v ?? ''
  }
  return out
}
