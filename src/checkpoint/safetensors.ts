/**
 * safetensors read/write (https://huggingface.co/docs/safetensors): 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__},
 * then the raw little-endian bytes. F16 and BF16 are widened to float32 on read (tfjs has
 * no half type); we always write F32 (and I32/I64 for integer tensors).
 */
import {closeSync, openSync, readFileSync, readSync, writeSync, fstatSync} from 'node:fs'
import {RuntimeFailure} from '../errors.js'

export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number]

/** A tensor as read from disk: floats widened to float32, integers to int32. */
export interface HostTensor {
  /** dtype as stored in the file. */
  dtype: SafetensorsDtype
  shape: number[]
  data: Float32Array | Int32Array
}

interface HeaderEntry {
  dtype: SafetensorsDtype
  shape: number[]
  data_offsets: [number, number]
}

const BYTES: Record<SafetensorsDtype, number> = {F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1}

/** IEEE half bits -> float32 bits, exact (subnormals, inf and NaN payloads included). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >> 10) & 0x1f
  let mant = h & 0x3ff
  if (exp === 0) {
    if (mant === 0) return sign >>> 0
    // subnormal: normalise the mantissa
    let e = -1
    do {
      e++
      mant <<= 1
    } while ((mant & 0x400) === 0)
    return (sign | ((127 - 15 - e) << 23) | ((mant & 0x3ff) << 13)) >>> 0
  }
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0
  return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0
}

// all 65536 halves, built on first use (256 KiB): a table lookup per element is several times
// faster than branching on the exponent, which matters for fp16 checkpoints of 100M+ weights
let HALF_TABLE: Uint32Array | undefined

/** IEEE half -> float32, exact (subnormals, inf and NaN included). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Uint32Array(65536)
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloatBits(h)
  }
  const table = HALF_TABLE
  const out = new Float32Array(bits.length)
  const u32 = new Uint32Array(out.buffer)
  for (let i = 0; i < bits.length; i++) u32[i] = table[bits[i]]
  return out
}

/** bfloat16 -> float32: the upper 16 bits of a float32. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length)
  const u32 = new Uint32Array(out.buffer)
  for (let i = 0; i < bits.length; i++) u32[i] = bits[i] << 16
  return out
}

function decode(entry: HeaderEntry, bytes: Uint8Array, name: string, file: string): Float32Array | Int32Array {
  const n = entry.shape.reduce((a, b) => a * b, 1)
  const want = n * BYTES[entry.dtype]
  if (bytes.byteLength !== want) {
    throw new RuntimeFailure(`${file}: tensor ${name} has ${bytes.byteLength} bytes, expected ${want} for ${entry.dtype}${JSON.stringify(entry.shape)}`, {code: 'safetensors.corrupt'})
  }
  // copy into an aligned buffer: offsets in the file need not be aligned to the element size
  const buf = new Uint8Array(want)
  buf.set(bytes)
  const ab = buf.buffer
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(ab)
    case 'F64':
      return Float32Array.from(new Float64Array(ab))
    case 'F16':
      return float16ToFloat32(new Uint16Array(ab))
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(ab))
    case 'I32':
      return new Int32Array(ab)
    case 'I64': {
      const big = new BigInt64Array(ab)
      const out = new Int32Array(n)
      for (let i = 0; i < n; i++) {
        const v = big[i]
        if (v > 2147483647n || v < -2147483648n) throw new RuntimeFailure(`${file}: tensor ${name} has an int64 value ${v} outside int32`, {code: 'safetensors.int_range'})
        out[i] = Number(v)
      }
      return out
    }
    case 'I16':
      return Int32Array.from(new Int16Array(ab))
    case 'I8':
      return Int32Array.from(new Int8Array(ab))
    case 'U8':
    case 'BOOL':
      return Int32Array.from(new Uint8Array(ab))
    default:
      throw new RuntimeFailure(`${file}: tensor ${name} has unsupported dtype ${entry.dtype as string}`, {code: 'safetensors.dtype'})
  }
}

/**
 * Decode little-endian tensor bytes of a safetensors dtype: floats widened to float32,
 * integers to int32 (an int64 outside int32 is an error). Shared with the PyTorch .bin reader.
 */
export function decodeTensorBytes(opts: {dtype: SafetensorsDtype; shape: number[]; bytes: Uint8Array; name: string; file: string}): Float32Array | Int32Array {
  return decode({dtype: opts.dtype, shape: opts.shape, data_offsets: [0, opts.bytes.byteLength]}, opts.bytes, opts.name, opts.file)
}

export interface SafetensorsHeader {
  tensors: Record<string, HeaderEntry>
  metadata: Record<string, string>
  /** Byte offset of the data section in the file. */
  dataStart: number
}

/** Read only the header (cheap: names, dtypes, shapes), e.g. to estimate memory before loading. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    const lenBuf = Buffer.alloc(8)
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new RuntimeFailure(`${file}: too short to be a safetensors file`, {code: 'safetensors.corrupt'})
    const len = Number(lenBuf.readBigUInt64LE(0))
    if (len > size - 8 || len > 100_000_000) throw new RuntimeFailure(`${file}: header length ${len} does not fit a file of ${size} bytes; not a safetensors file?`, {code: 'safetensors.corrupt'})
    const hb = Buffer.alloc(len)
    readSync(fd, hb, 0, len, 8)
    let json: Record<string, unknown>
    try {
      json = JSON.parse(hb.toString('utf8'))
    } catch (error) {
      throw new RuntimeFailure(`${file}: header is not valid JSON`, {code: 'safetensors.corrupt', cause: error})
    }
    const metadata = (json.__metadata__ ?? {}) as Record<string, string>
    delete json.__metadata__
    return {tensors: json as Record<string, HeaderEntry>, metadata, dataStart: 8 + len}
  } finally {
    closeSync(fd)
  }
}

/** Read every tensor of a safetensors file (or only those `names`). */
export function readSafetensors(file: string, opts: {names?: string[]} = {}): {tensors: Map<string, HostTensor>; metadata: Record<string, string>} {
  const header = readSafetensorsHeader(file)
  const raw = readFileSync(file)
  const tensors = new Map<string, HostTensor>()
  const wanted = opts.names ?? Object.keys(header.tensors)
  for (const name of wanted) {
    const e = header.tensors[name]
    if (!e) throw new RuntimeFailure(`${file}: no tensor named ${name}`, {code: 'safetensors.missing'})
    const [b, end] = e.data_offsets
    const bytes = raw.subarray(header.dataStart + b, header.dataStart + end)
    tensors.set(name, {dtype: e.dtype, shape: [...e.shape], data: decode(e, bytes, name, file)})
  }
  return {tensors, metadata: header.metadata}
}

/** A tensor to write: float32 data is written as F32, int32 as I32. */
export interface TensorToWrite {
  shape: number[]
  data: Float32Array | Int32Array
}

/**
 * A tensor read only when its bytes are written, so that a file of many large tensors (a
 * checkpoint's AdamW moments: twice the model) needs host memory for one tensor at a time.
 */
export interface TensorSource {
  shape: number[]
  dtype: 'F32' | 'I32'
  read(): Float32Array | Int32Array
}

/**
 * Write a safetensors file. Tensors are laid out in sorted name order (as the Python library
 * does) and the header is padded with spaces to a multiple of 8 bytes so that every tensor
 * starts 8-byte aligned.
 */
export function writeSafetensors(file: string, tensors: Map<string, TensorToWrite | TensorSource> | Record<string, TensorToWrite | TensorSource>, metadata: Record<string, string> = {format: 'pt'}): void {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if ('data' in t && n !== t.data.length) throw new RuntimeFailure(`tensor ${name}: shape ${JSON.stringify(t.shape)} has ${n} elements but data has ${t.data.length}`, {code: 'safetensors.shape'})
    const dtype = 'data' in t ? (t.data instanceof Float32Array ? 'F32' : 'I32') : t.dtype
    header[name] = {dtype, shape: t.shape, data_offsets: [offset, offset + n * 4]}
    offset += n * 4
  }
  let json = JSON.stringify(header)
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8
  json += ' '.repeat(pad)
  const hb = Buffer.from(json, 'utf8')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(hb.length))
  const fd = openSync(file, 'w')
  try {
    writeSync(fd, len)
    writeSync(fd, hb)
    for (const [name, t] of entries) {
      const data = 'data' in t ? t.data : t.read() // a source's host copy lives only for this write
      const entry = header[name] as {dtype: string; data_offsets: [number, number]}
      if ('read' in t && (data.byteLength !== entry.data_offsets[1] - entry.data_offsets[0] || (data instanceof Float32Array ? 'F32' : 'I32') !== entry.dtype)) {
        throw new RuntimeFailure(`tensor ${name}: its source read ${data.length} ${data instanceof Float32Array ? 'F32' : 'I32'} values, declared ${entry.dtype}${JSON.stringify(t.shape)}`, {code: 'safetensors.shape'})
      }
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    }
  } finally {
    closeSync(fd)
  }
}
