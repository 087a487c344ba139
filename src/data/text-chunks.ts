/**
 * Line-mode .txt files cut into byte ranges at line starts, so worker threads can read, decode
 * and split their own part of the corpus: the main thread hands out offsets, not texts. A range
 * [start, end) given in round numbers is widened to the lines that start inside it, so adjacent
 * ranges never share or lose a line, whatever their sizes. The documents of a range are the ones
 * documentBatches finds there (each line trimmed, empty ones dropped), and invalid UTF-8 is
 * reported at the same byte offset.
 */
import * as fs from 'node:fs'
import {firstInvalidUtf8Offset} from './decode-utf8.js'

/** A range of one file whose bounds are line starts (or 0 / the end of the file). */
export interface TextChunk {
  /** Index into the source's file list. */
  file: number
  start: number
  end: number
}

/** What counting a chunk found (the bounds are the widened ones). */
export interface CountedChunk extends TextChunk {
  docs: number
  /** UTF-16 code units of the trimmed documents (String.length). */
  chars: number
}

/** Invalid UTF-8 in a chunk: where (byte offset in the file) and which byte. */
export interface ChunkUtf8Error {
  invalidUtf8: {offset: number; byte: number}
}

const NEWLINE = 0x0a
const PROBE_BYTES = 64 << 10

/** The first line start at or after `at` (a line starts at 0 and after each \n; the end of the file counts as one). */
export function nextLineStart(fd: number, at: number, size: number): number {
  if (at <= 0) return 0
  if (at >= size) return size
  const probe = Buffer.allocUnsafe(PROBE_BYTES)
  for (let pos = at - 1; pos < size; ) {
    const n = fs.readSync(fd, probe, 0, Math.min(PROBE_BYTES, size - pos), pos)
    if (n === 0) break
    const i = probe.subarray(0, n).indexOf(NEWLINE)
    if (i >= 0) return pos + i + 1
    pos += n
  }
  return size
}

/**
 * The documents of the lines that start in [start, end) of `path` (bounds widened to line starts
 * unless `aligned`), or where its UTF-8 is invalid. Reads only that range (plus the rest of the
 * last line).
 */
export function chunkDocuments(params: {path: string; start: number; end: number; aligned?: boolean}): {start: number; end: number; docs: string[]} | ChunkUtf8Error {
  const fd = fs.openSync(params.path, 'r')
  try {
    const size = fs.fstatSync(fd).size
    const start = params.aligned ? Math.min(params.start, size) : nextLineStart(fd, params.start, size)
    const end = params.aligned ? Math.min(params.end, size) : Math.max(start, nextLineStart(fd, params.end, size))
    const bytes = Buffer.allocUnsafe(end - start)
    let got = 0
    while (got < bytes.length) {
      const n = fs.readSync(fd, bytes, got, bytes.length - got, start + got)
      if (n === 0) break // the file shrank: the caller sees fewer documents than counted
      got += n
    }
    const view = bytes.subarray(0, got)
    let text: string
    try {
      // the BOM is dropped only at the start of the file, as one decoder over the whole file does
      text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: start !== 0}).decode(view)
    } catch {
      let at = firstInvalidUtf8Offset(view)
      if (at < 0) at = view.length - 1 // a sequence cut off by the end of the file
      return {invalidUtf8: {offset: start + at, byte: view[at] ?? 0}}
    }
    const docs: string[] = []
    for (const line of text.split('\n')) {
      const d = line.trim()
      if (d.length > 0) docs.push(d)
    }
    return {start, end, docs}
  } finally {
    fs.closeSync(fd)
  }
}

/** Round-number ranges of `chunkBytes` covering a file of `size` bytes (widened by the reader). */
export function nominalChunks(file: number, size: number, chunkBytes: number): TextChunk[] {
  const out: TextChunk[] = []
  for (let start = 0; start < size; start += chunkBytes) out.push({file, start, end: Math.min(size, start + chunkBytes)})
  return out
}
