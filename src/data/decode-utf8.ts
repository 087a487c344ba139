import {ConfigError} from '../errors.js'

const decoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: false})

/**
 * Decode strict UTF-8. On invalid input, report the file and the byte offset of the first bad
 * sequence (TextDecoder does not say where, so we locate it ourselves only on failure).
 */
export function decodeUtf8(params: {bytes: Uint8Array; file: string}): string {
  try {
    return decoder.decode(params.bytes)
  } catch (error) {
    const offset = firstInvalidUtf8Offset(params.bytes)
    throw invalidUtf8Error({file: params.file, offset, byte: params.bytes[offset] ?? 0, cause: error})
  }
}

/** The error for invalid UTF-8 at byte `offset` of `file` (`byte` is the byte found there). */
export function invalidUtf8Error(params: {file: string; offset: number; byte: number; cause?: unknown}): ConfigError {
  return new ConfigError(
    `${params.file} is not valid UTF-8: invalid byte sequence at byte offset ${params.offset}` + ` (byte 0x${params.byte.toString(16).padStart(2, '0')}).`,
    {
      code: 'data.invalid_utf8',
      cause: params.cause,
      suggestions: [`Re-encode the file as UTF-8, e.g. \`iconv -f latin1 -t utf-8 ${params.file}\`, or remove it from the source.`],
    },
  )
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1 when valid. */
export function firstInvalidUtf8Offset(b: Uint8Array): number {
  let i = 0
  const n = b.length
  while (i < n) {
    const c = b[i]
    if (c < 0x80) {
      i++
      continue
    }
    let need: number
    let min: number
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1
      min = 0x80
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2
      min = 0x800
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3
      min = 0x10000
    } else return i
    let cp = c & (0x3f >> need)
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]
      if (d === undefined || (d & 0xc0) !== 0x80) return i
      cp = (cp << 6) | (d & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i
    i += need + 1
  }
  return -1
}
