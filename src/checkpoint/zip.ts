/**
 * Minimal read-only zip archive reader for PyTorch checkpoints (torch.save's zip format,
 * written by PyTorchStreamWriter/miniz: stored entries, 64-byte aligned, zip64 when large).
 * Reads the central directory once through a file descriptor and each entry on demand, so a
 * checkpoint of several hundred MB is never held in memory twice.
 * Format: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (4.3.12, 4.3.14-16, 4.5.3)
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {inflateRawSync} from 'node:zlib'
import {RuntimeFailure} from '../errors.js'

export interface ZipEntry {
  name: string
  /** 0 = stored, 8 = deflate. */
  method: number
  compressedSize: number
  size: number
  /** Offset of the local file header. */
  localHeaderOffset: number
}

const SIG_EOCD = 0x06054b50
const SIG_EOCD64 = 0x06064b50
const SIG_EOCD64_LOCATOR = 0x07064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50

/** A zip archive opened for reading; call `close()` when done. */
export class ZipReader {
  readonly entries: Map<string, ZipEntry>
  private fd: number

  private constructor(
    readonly file: string,
    fd: number,
    entries: Map<string, ZipEntry>,
  ) {
    this.fd = fd
    this.entries = entries
  }

  static open(opts: {file: string}): ZipReader {
    const file = opts.file
    const fd = openSync(file, 'r')
    try {
      return new ZipReader(file, fd, readCentralDirectory(fd, file))
    } catch (error) {
      closeSync(fd)
      throw error
    }
  }

  /** The bytes of one entry (inflated when deflated). */
  read(name: string): Buffer {
    const e = this.entries.get(name)
    if (!e) throw new RuntimeFailure(`${this.file}: the archive has no entry ${name}`, {code: 'zip.missing_entry'})
    const lh = Buffer.alloc(30)
    readExact(this.fd, lh, e.localHeaderOffset, this.file)
    if (lh.readUInt32LE(0) !== SIG_LOCAL) throw corrupt(this.file, `bad local header for ${name}`)
    const dataStart = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28)
    const raw = Buffer.allocUnsafe(e.compressedSize) // filled completely by readExact
    readExact(this.fd, raw, dataStart, this.file)
    if (e.method === 0) return raw
    if (e.method === 8) {
      const out = inflateRawSync(raw)
      if (out.length !== e.size) throw corrupt(this.file, `${name} inflated to ${out.length} bytes, expected ${e.size}`)
      return out
    }
    throw new RuntimeFailure(`${this.file}: entry ${name} uses zip compression method ${e.method}; only stored (0) and deflate (8) are supported`, {code: 'zip.method'})
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

/** True when the file starts with a zip local-file signature ("PK\x03\x04"). */
export function isZipFile(opts: {file: string}): boolean {
  const fd = openSync(opts.file, 'r')
  try {
    const b = Buffer.alloc(4)
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === SIG_LOCAL
  } finally {
    closeSync(fd)
  }
}

function corrupt(file: string, what: string): RuntimeFailure {
  return new RuntimeFailure(`${file}: not a valid zip archive (${what})`, {code: 'zip.corrupt'})
}

function readExact(fd: number, buf: Buffer, position: number, file: string): void {
  let done = 0
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done)
    if (n === 0) throw corrupt(file, `truncated at byte ${position + done}`)
    done += n
  }
}

function readCentralDirectory(fd: number, file: string): Map<string, ZipEntry> {
  const size = fstatSync(fd).size
  // the end-of-central-directory record sits in the last 22 + 65535 (comment) bytes
  const tailLen = Math.min(size, 22 + 65535 + 20)
  const tail = Buffer.alloc(tailLen)
  readExact(fd, tail, size - tailLen, file)
  let eocd = -1
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw corrupt(file, 'no end-of-central-directory record')
  let count = tail.readUInt16LE(eocd + 10)
  let cdSize = tail.readUInt32LE(eocd + 12)
  let cdOffset = tail.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: the locator precedes the EOCD record and points at the zip64 EOCD
    const loc = eocd - 20
    if (loc < 0 || tail.readUInt32LE(loc) !== SIG_EOCD64_LOCATOR) throw corrupt(file, 'zip64 locator missing')
    const eocd64Offset = Number(tail.readBigUInt64LE(loc + 8))
    const rec = Buffer.alloc(56)
    readExact(fd, rec, eocd64Offset, file)
    if (rec.readUInt32LE(0) !== SIG_EOCD64) throw corrupt(file, 'zip64 end record missing')
    count = Number(rec.readBigUInt64LE(32))
    cdSize = Number(rec.readBigUInt64LE(40))
    cdOffset = Number(rec.readBigUInt64LE(48))
  }
  const cd = Buffer.alloc(cdSize)
  readExact(fd, cd, cdOffset, file)
  const entries = new Map<string, ZipEntry>()
  let p = 0
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw corrupt(file, `bad central directory entry ${i}`)
    const method = cd.readUInt16LE(p + 10)
    let compressedSize = cd.readUInt32LE(p + 20)
    let sz = cd.readUInt32LE(p + 24)
    const nameLen = cd.readUInt16LE(p + 28)
    const extraLen = cd.readUInt16LE(p + 30)
    const commentLen = cd.readUInt16LE(p + 32)
    let localHeaderOffset = cd.readUInt32LE(p + 42)
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen)
    // zip64 extended information: only the fields that overflowed are present, in this order
    let x = p + 46 + nameLen
    const xEnd = x + extraLen
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x)
      const len = cd.readUInt16LE(x + 2)
      if (id === 0x0001) {
        let q = x + 4
        if (sz === 0xffffffff) (sz = Number(cd.readBigUInt64LE(q))), (q += 8)
        if (compressedSize === 0xffffffff) (compressedSize = Number(cd.readBigUInt64LE(q))), (q += 8)
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q))
      }
      x += 4 + len
    }
    entries.set(name, {name, method, compressedSize, size: sz, localHeaderOffset})
    p += 46 + nameLen + extraLen + commentLen
  }
  return entries
}
