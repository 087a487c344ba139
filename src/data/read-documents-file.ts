import * as fs from 'node:fs'
import * as path from 'node:path'
import {tableFromIPC} from 'apache-arrow'
import {asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData} from 'hyparquet'
import {ConfigError, RuntimeFailure} from '../errors.js'
import {decodeUtf8, firstInvalidUtf8Offset, invalidUtf8Error} from './decode-utf8.js'
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

/** Bytes read per step of a .txt / .jsonl file (and the most text held of it, besides one line). */
const READ_BYTES = 4 << 20

/**
 * The documents (texts) in one file. Empty and whitespace-only documents are dropped.
 * `column` applies to jsonl / json / parquet / arrow. The whole file's documents at once: for
 * large files use documentBatches.
 */
export async function readDocumentsFile(params: {file: string; format: FileFormat; column: string; txtMode: TxtMode}): Promise<string[]> {
  const docs: string[] = []
  for await (const batch of documentBatches(params)) for (const d of batch) docs.push(d)
  return docs
}

/**
 * The documents of one file in order, a batch at a time (trimmed, empty ones dropped), holding a
 * bounded part of the file: .txt and .jsonl are read 4 MiB at a time, Parquet a row group at a
 * time; .json and .arrow files are read whole (one file at a time).
 */
export async function* documentBatches(params: {
  file: string
  format: FileFormat
  column: string
  txtMode: TxtMode
  /** Bytes per read of .txt / .jsonl (default 4 MiB; tests use tiny reads to cross every boundary). */
  readBytes?: number
}): AsyncGenerator<string[]> {
  const {file, column} = params
  const readBytes = params.readBytes ?? READ_BYTES
  const format = formatOf(file, params.format)
  switch (format) {
    case 'txt':
      if (params.txtMode === 'line') {
        for await (const lines of lineBatches(file, readBytes)) {
          const docs: string[] = []
          for (const l of lines) {
            const d = l.trim()
            if (d.length > 0) docs.push(d)
          }
          yield docs
        }
      } else yield* blockBatches(file, readBytes)
      return
    case 'jsonl': {
      let lineNo = 0
      for await (const lines of lineBatches(file, readBytes)) {
        const docs: string[] = []
        for (const line of lines) {
          lineNo++
          if (line.trim() === '') continue
          let rec: unknown
          try {
            rec = JSON.parse(line)
          } catch (error) {
            throw new ConfigError(`${file}:${lineNo} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
          }
          const d = pickColumn({rec, column, file, where: `line ${lineNo}`}).trim()
          if (d.length > 0) docs.push(d)
        }
        yield docs
      }
      return
    }
    case 'json': {
      const text = decodeUtf8({bytes: readWhole(file), file})
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, {code: 'data.invalid_json', cause: error})
      }
      yield clean(jsonDocuments({value, column, file}))
      return
    }
    case 'parquet':
      yield* parquetBatches({file, column})
      return
    case 'arrow':
      yield clean(readArrow({bytes: readWhole(file), file, column}))
      return
  }
}

function clean(docs: string[]): string[] {
  return docs.map((d) => d.trim()).filter((d) => d.length > 0)
}

function unreadable(file: string, error: unknown): RuntimeFailure {
  return new RuntimeFailure(`cannot read data source file ${file}: ${(error as Error).message}`, {
    code: 'data.source_unreadable',
    cause: error,
    suggestions: ['Check that the file exists and is readable.'],
  })
}

function readWhole(file: string): Uint8Array {
  try {
    return fs.readFileSync(file)
  } catch (error) {
    throw unreadable(file, error)
  }
}

/**
 * The lines of a UTF-8 file (split at \n; a \r before it stays on the line, callers trim), a
 * batch per read. Invalid UTF-8 is reported with its byte offset in the file.
 */
async function* lineBatches(file: string, readBytes: number): AsyncGenerator<string[]> {
  let fh: fs.promises.FileHandle
  try {
    fh = await fs.promises.open(file, 'r')
  } catch (error) {
    throw unreadable(file, error)
  }
  try {
    const decoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: false})
    const buf = Buffer.allocUnsafe(readBytes)
    let carry = ''
    let pos = 0
    let tail = Buffer.alloc(0) // the last bytes before `pos`, to locate a sequence split across reads
    for (;;) {
      const {bytesRead} = await fh.read(buf, 0, buf.length, pos)
      const chunk = buf.subarray(0, bytesRead)
      let text: string
      try {
        text = decoder.decode(chunk, {stream: bytesRead > 0})
      } catch (error) {
        throw invalidUtf8({file, error, tail, chunk, chunkStart: pos})
      }
      if (bytesRead > 0) tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - 3)))
      pos += bytesRead
      const lines = (carry + text).split('\n')
      if (bytesRead === 0) {
        yield lines
        return
      }
      carry = lines.pop()!
      yield lines
    }
  } finally {
    await fh.close()
  }
}

function invalidUtf8(params: {file: string; error: unknown; tail: Buffer; chunk: Uint8Array; chunkStart: number}): ConfigError {
  // skip continuation bytes at the start of the tail: they finish a sequence decoded before
  let skip = 0
  while (skip < params.tail.length && (params.tail[skip] & 0xc0) === 0x80) skip++
  const bytes = Buffer.concat([params.tail.subarray(skip), params.chunk])
  let at = firstInvalidUtf8Offset(bytes)
  if (at < 0) at = bytes.length - 1 // a sequence cut off by the end of the file
  const start = params.chunkStart - (params.tail.length - skip)
  return invalidUtf8Error({file: params.file, offset: start + Math.max(0, at), byte: bytes[at] ?? 0, cause: params.error})
}

/**
 * Blank-line-separated blocks, the same documents as splitting the whole text at
 * /\r?\n[ \t]*\r?\n/ and trimming: a line holding only spaces/tabs (and a final \r) ends a block.
 */
async function* blockBatches(file: string, readBytes: number): AsyncGenerator<string[]> {
  let block: string[] = []
  const end = (docs: string[]) => {
    const d = block.join('\n').trim()
    if (d.length > 0) docs.push(d)
    block = []
  }
  for await (const lines of lineBatches(file, readBytes)) {
    const docs: string[] = []
    for (const line of lines) {
      if (BLANK_LINE.test(line)) end(docs)
      else block.push(line)
    }
    yield docs
  }
  const last: string[] = []
  end(last)
  yield last
}
const BLANK_LINE = /^[ \t]*\r?$/

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

/** A Parquet file's column, one row group at a time (the file is read by ranges, not whole). */
async function* parquetBatches(params: {file: string; column: string}): AsyncGenerator<string[]> {
  const {file, column} = params
  let source: AsyncBuffer
  let metadata: FileMetaData
  try {
    source = await asyncBufferFromFile(file)
  } catch (error) {
    throw unreadable(file, error)
  }
  try {
    metadata = await parquetMetadataAsync(source)
  } catch (error) {
    throw new ConfigError(`${file} is not a readable Parquet file: ${(error as Error).message}`, {
      code: 'data.source_unreadable',
      cause: error,
      suggestions: ['Check that the file is Parquet (or set `data.source.format`).'],
    })
  }
  const columns = parquetSchema(metadata).children.map((c) => c.element.name)
  if (!columns.includes(column)) throw columnError({file, column, columns})
  const compressors = await parquetCompressors()
  let rowStart = 0
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows)
    let rows: Record<string, unknown>[]
    try {
      rows = await parquetReadObjects({file: source, metadata, columns: [column], rowStart, rowEnd, compressors})
    } catch (error) {
      throw new ConfigError(`${file}: cannot decode column "${column}": ${(error as Error).message}`, {
        code: 'data.source_unreadable',
        cause: error,
        suggestions: [`Parquet codecs rtd reads: ${PARQUET_CODECS.join(', ')}; rewrite the file with one of them (e.g. zstd or snappy).`],
      })
    }
    const docs: string[] = []
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i][column]
      if (v === null || v === undefined) continue
      if (typeof v !== 'string') throw new ConfigError(`${file} row ${rowStart + i}: column "${column}" is not a string column.`, {code: 'data.column_type'})
      const d = v.trim()
      if (d.length > 0) docs.push(d)
    }
    rowStart = rowEnd
    yield docs
  }
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
