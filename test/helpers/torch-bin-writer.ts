/**
 * Test helper: writes a PyTorch state dict exactly as torch.save (zip format, protocol 2) does,
 * without Python. The pickle is assembled opcode by opcode in the shape torch emits:
 *   OrderedDict() SETITEMS {name: _rebuild_tensor_v2(BINPERSID(('storage', torch.HalfStorage,
 *   key, 'cpu', numel)), offset, size, stride, False, OrderedDict())} + BUILD({'_metadata': ...})
 * and the zip holds <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version, <prefix>/byteorder.
 * Also exports the low-level pickle and zip builders so tests can craft hostile files.
 */
import {writeFileSync} from 'node:fs'
import {deflateRawSync} from 'node:zlib'

export const STORAGE_OF = {F16: 'HalfStorage', F32: 'FloatStorage', F64: 'DoubleStorage', BF16: 'BFloat16Storage', I64: 'LongStorage', I32: 'IntStorage'} as const
export type BinDtype = keyof typeof STORAGE_OF

export interface BinTensor {
  dtype: BinDtype
  /** Shape of the tensor view. */
  shape: number[]
  /** The storage's values (row-major), numel of the storage. */
  storage: number[]
  /** Default: '0', '1', ... in order; reuse a key to share a storage. */
  key?: string
  offset?: number
  /** Default: contiguous. */
  stride?: number[]
  /** Wrap in torch._utils._rebuild_parameter like nn.Parameter. */
  parameter?: boolean
}

/** Protocol-2 pickle builder (opcodes as in CPython's pickletools). */
export class PickleBuilder {
  private parts: number[] = []
  private memo = 0

  op(...bytes: number[]): this {
    this.parts.push(...bytes)
    return this
  }
  proto(v = 2): this {
    return this.op(0x80, v)
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')).put()
  }
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).op(0x93)
  }
  put(): this {
    return this.op(0x71, this.memo++ & 0xff)
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32LE(b.length)
    return this.op(0x58, ...len, ...b).put()
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v)
    if (v >= 0 && v < 65536) return this.op(0x4d, v & 0xff, v >> 8)
    if (v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(4)
      b.writeInt32LE(v)
      return this.op(0x4a, ...b)
    }
    // LONG1, little-endian two's complement
    const b = Buffer.alloc(8)
    b.writeBigInt64LE(BigInt(v))
    return this.op(0x8a, 8, ...b)
  }
  tuple(build: (b: this) => void): this {
    this.op(0x28)
    build(this)
    return this.op(0x74).put()
  }
  mark(): this {
    return this.op(0x28)
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts)
  }
}

/** float32 -> IEEE half bits, round to nearest even (normal, subnormal, inf, NaN). */
export function toHalfBits(v: number): number {
  const f = new Float32Array([v])
  const x = new Uint32Array(f.buffer)[0]
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let h = mant >> shift
    const rem = mant & ((1 << shift) - 1)
    const half = 1 << (shift - 1)
    if (rem > half || (rem === half && h & 1)) h++
    return sign | h
  }
  let h = (e << 10) | (mant >> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++ // a carry into the exponent is correct (may give inf)
  return sign | h
}

function encodeStorage(dtype: BinDtype, values: number[]): Buffer {
  switch (dtype) {
    case 'F32':
      return Buffer.from(new Float32Array(values).buffer)
    case 'F64':
      return Buffer.from(new Float64Array(values).buffer)
    case 'F16':
      return Buffer.from(Uint16Array.from(values.map(toHalfBits)).buffer)
    case 'BF16':
      return Buffer.from(Uint16Array.from(values.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16)).buffer)
    case 'I64':
      return Buffer.from(BigInt64Array.from(values.map((v) => BigInt(v))).buffer)
    case 'I32':
      return Buffer.from(new Int32Array(values).buffer)
  }
}

/** The data.pkl of a state dict, and the storages by key. */
export function stateDictPickle(tensors: Record<string, BinTensor>): {pickle: Uint8Array; storages: Map<string, Buffer>} {
  const p = new PickleBuilder().proto(2)
  const storages = new Map<string, Buffer>()
  p.global('collections', 'OrderedDict').op(0x29).op(0x52).put() // OrderedDict()
  p.mark()
  let next = 0
  for (const [name, t] of Object.entries(tensors)) {
    const key = t.key ?? String(next++)
    if (!storages.has(key)) storages.set(key, encodeStorage(t.dtype, t.storage))
    const stride = t.stride ?? t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1))
    p.str(name)
    if (t.parameter) p.global('torch._utils', '_rebuild_parameter').mark()
    p.global('torch._utils', '_rebuild_tensor_v2')
    p.mark()
    p.tuple((b) => b.str('storage').global('torch', STORAGE_OF[t.dtype]).str(key).str('cpu').int(t.storage.length))
    p.op(0x51) // BINPERSID
    p.int(t.offset ?? 0)
    p.tuple((b) => t.shape.forEach((d) => b.int(d)))
    p.tuple((b) => stride.forEach((d) => b.int(d)))
    p.op(0x89) // requires_grad False
    p.global('collections', 'OrderedDict').op(0x29).op(0x52).put()
    p.op(0x74).put().op(0x52).put() // TUPLE, REDUCE
    if (t.parameter) p.op(0x89).global('collections', 'OrderedDict').op(0x29).op(0x52).put().op(0x74).op(0x52).put()
  }
  p.op(0x75) // SETITEMS
  // state dicts carry a `_metadata` attribute, restored with BUILD
  p.op(0x7d).put().str('_metadata').global('collections', 'OrderedDict').op(0x29).op(0x52).put().op(0x73).op(0x62)
  p.op(0x2e)
  return {pickle: p.bytes(), storages}
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

function crc32(b: Uint8Array): number {
  let c = 0xffffffff
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/**
 * A plain zip archive (stored entries, or deflated with `deflate`). `zip64` writes every size and
 * offset through zip64 extra fields and a zip64 end record, as archives over 4 GiB need.
 */
export function buildZip(entries: [string, Uint8Array][], opts: {deflate?: boolean; zip64?: boolean} = {}): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, data] of entries) {
    const nameBuf = Buffer.from(name, 'utf8')
    const body = opts.deflate ? deflateRawSync(data) : Buffer.from(data)
    const crc = crc32(data)
    const lh = Buffer.alloc(30)
    lh.writeUInt32LE(0x04034b50, 0)
    lh.writeUInt16LE(20, 4)
    lh.writeUInt16LE(opts.deflate ? 8 : 0, 8)
    lh.writeUInt32LE(crc, 14)
    lh.writeUInt32LE(body.length, 18)
    lh.writeUInt32LE(data.length, 22)
    lh.writeUInt16LE(nameBuf.length, 26)
    const ch = Buffer.alloc(46)
    ch.writeUInt32LE(0x02014b50, 0)
    ch.writeUInt16LE(20, 4)
    ch.writeUInt16LE(20, 6)
    ch.writeUInt16LE(opts.deflate ? 8 : 0, 10)
    ch.writeUInt32LE(crc, 16)
    ch.writeUInt32LE(opts.zip64 ? 0xffffffff : body.length, 20)
    ch.writeUInt32LE(opts.zip64 ? 0xffffffff : data.length, 24)
    ch.writeUInt16LE(nameBuf.length, 28)
    ch.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 42)
    locals.push(lh, nameBuf, body)
    if (opts.zip64) {
      // zip64 extra: uncompressed size, compressed size, local header offset (APPNOTE 4.5.3)
      const x = Buffer.alloc(28)
      x.writeUInt16LE(0x0001, 0)
      x.writeUInt16LE(24, 2)
      x.writeBigUInt64LE(BigInt(data.length), 4)
      x.writeBigUInt64LE(BigInt(body.length), 12)
      x.writeBigUInt64LE(BigInt(offset), 20)
      ch.writeUInt16LE(x.length, 30)
      centrals.push(ch, nameBuf, x)
    } else {
      centrals.push(ch, nameBuf)
    }
    offset += 30 + nameBuf.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8)
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10)
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12)
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 16)
  if (!opts.zip64) return Buffer.concat([...locals, cd, eocd])
  const e64 = Buffer.alloc(56)
  e64.writeUInt32LE(0x06064b50, 0)
  e64.writeBigUInt64LE(44n, 4)
  e64.writeBigUInt64LE(BigInt(entries.length), 24)
  e64.writeBigUInt64LE(BigInt(entries.length), 32)
  e64.writeBigUInt64LE(BigInt(cd.length), 40)
  e64.writeBigUInt64LE(BigInt(offset), 48)
  const loc = Buffer.alloc(20)
  loc.writeUInt32LE(0x07064b50, 0)
  loc.writeBigUInt64LE(BigInt(offset + cd.length), 8)
  loc.writeUInt32LE(1, 16)
  return Buffer.concat([...locals, cd, e64, loc, eocd])
}

/** Write a torch.save-style zip checkpoint (prefix `archive` like torch >= 1.6 default for file objects). */
export function writeTorchBin(file: string, tensors: Record<string, BinTensor>, opts: {prefix?: string; deflate?: boolean; zip64?: boolean; pickle?: Uint8Array} = {}): void {
  const prefix = opts.prefix ?? 'archive'
  const {pickle, storages} = stateDictPickle(tensors)
  const entries: [string, Uint8Array][] = [[`${prefix}/data.pkl`, opts.pickle ?? pickle]]
  for (const [k, b] of storages) entries.push([`${prefix}/data/${k}`, b])
  entries.push([`${prefix}/version`, Buffer.from('3\n')], [`${prefix}/byteorder`, Buffer.from('little')])
  writeFileSync(file, buildZip(entries, {deflate: opts.deflate, zip64: opts.zip64}))
}
