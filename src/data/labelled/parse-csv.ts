/**
 * RFC 4180 CSV (or TSV with delimiter '\t'): fields separated by the delimiter, records by
 * CRLF or LF, a field in double quotes may hold delimiters, newlines and "" for a quote.
 */
import {ConfigError} from '../../errors.js'

export interface CsvRow {
  fields: string[]
  /** 1-based line where the record starts. */
  line: number
}

export function parseCsv(p: {text: string; delimiter: string; file: string}): CsvRow[] {
  const {text, delimiter} = p
  const rows: CsvRow[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let start = 1
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0 // BOM
  let quoted = false
  let wasQuoted = false
  const endField = () => {
    fields.push(field)
    field = ''
    wasQuoted = false
  }
  const endRow = () => {
    endField()
    rows.push({fields, line: start})
    fields = []
  }
  while (i < text.length) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quoted = false
        i++
        continue
      }
      if (c === '\n') line++
      field += c
      i++
      continue
    }
    if (c === '"' && field === '' && !wasQuoted) {
      quoted = true
      wasQuoted = true
      i++
      continue
    }
    if (c === delimiter) {
      endField()
      i++
      continue
    }
    if (c === '\r' && text[i + 1] === '\n') i++
    if (c === '\n' || c === '\r') {
      endRow()
      line++
      start = line
      i++
      continue
    }
    if (wasQuoted) throw new ConfigError(`${p.file}:${line}: text after a closing quote; a quoted field must end at the delimiter or the end of the line.`, {code: 'data.invalid_csv'})
    field += c
    i++
  }
  if (quoted) throw new ConfigError(`${p.file}:${start}: a quoted field is never closed.`, {code: 'data.invalid_csv'})
  if (field !== '' || fields.length > 0 || wasQuoted) endRow()
  return rows
}
