import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {toHalfBits} from '../../helpers/torch-bin-writer.js'
import {bfloat16ToFloat32, float16ToFloat32, readSafetensors, readSafetensorsHeader, type TensorSource, type TensorToWrite, writeSafetensors} from '../../../src/checkpoint/safetensors.js'

/** A safetensors file with raw 16-bit payloads, as Python would write F16/BF16. */
function writeRaw16(file: string, tensors: Record<string, {dtype: 'F16' | 'BF16'; bits: number[]}>): void {
  const header: Record<string, unknown> = {}
  let off = 0
  const bufs: Buffer[] = []
  for (const [name, t] of Object.entries(tensors)) {
    const b = Buffer.from(Uint16Array.from(t.bits).buffer)
    header[name] = {dtype: t.dtype, shape: [t.bits.length], data_offsets: [off, off + b.length]}
    off += b.length
    bufs.push(b)
  }
  const h = Buffer.from(JSON.stringify(header))
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(h.length))
  writeFileSync(file, Buffer.concat([len, h, ...bufs]))
}

describe('checkpoint/safetensors', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-st-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('round-trips float32 and int32 tensors with metadata', () => {
    const file = join(dir, 'm.safetensors')
    const w = {shape: [2, 2], data: new Float32Array([1.5, -2, 3e-8, 1e30])}
    const ids = {shape: [3], data: new Int32Array([0, -1, 128099])}
    writeSafetensors(file, new Map<string, TensorToWrite>([['b.weight', w], ['a.ids', ids]]), {format: 'pt', note: 'x'})
    const {tensors, metadata} = readSafetensors(file)
    expect(metadata).to.deep.equal({format: 'pt', note: 'x'})
    expect(tensors.get('b.weight')).to.deep.include({dtype: 'F32', shape: [2, 2]})
    expect([...tensors.get('b.weight')!.data]).to.deep.equal([...w.data])
    expect(tensors.get('a.ids')!.dtype).to.equal('I32')
    expect([...tensors.get('a.ids')!.data]).to.deep.equal([0, -1, 128099])
  })

  it('pads the header to 8 bytes and lays tensors out in sorted name order', () => {
    const file = join(dir, 'm.safetensors')
    writeSafetensors(file, {zeta: {shape: [1], data: new Float32Array([1])}, alpha: {shape: [3], data: new Float32Array([2, 3, 4])}, 'a.b': {shape: [1], data: new Float32Array([5])}})
    const raw = readFileSync(file)
    const len = Number(raw.readBigUInt64LE(0))
    expect(len % 8).to.equal(0)
    const h = readSafetensorsHeader(file)
    expect(h.dataStart % 8).to.equal(0)
    const order = Object.entries(h.tensors).sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]).map(([n]) => n)
    expect(order).to.deep.equal(['a.b', 'alpha', 'zeta'])
    expect(h.tensors.alpha.data_offsets).to.deep.equal([4, 16])
    expect(raw.length).to.equal(8 + len + 20)
  })

  it('reads a TensorSource only when its bytes are written, one tensor at a time, giving the same file as host arrays', () => {
    const arrays = new Map<string, TensorToWrite>([
      ['b', {shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6])}],
      ['a', {shape: [2], data: new Int32Array([7, -8])}],
      ['c', {shape: [1], data: new Float32Array([0.5])}],
    ])
    writeSafetensors(join(dir, 'arrays.safetensors'), arrays)
    const file = join(dir, 'sources.safetensors')
    const sizesAtRead: [string, number][] = []
    const sources = new Map<string, TensorSource>(
      [...arrays].map(([name, t]) => [name, {shape: t.shape, dtype: t.data instanceof Float32Array ? 'F32' : 'I32', read: () => (sizesAtRead.push([name, statSync(file).size]), t.data)}]),
    )
    writeSafetensors(file, sources)
    expect(readFileSync(file).equals(readFileSync(join(dir, 'arrays.safetensors')))).to.equal(true)
    // each read comes after the tensors before it (sorted order) are on disk: no read ahead
    const dataStart = readSafetensorsHeader(file).dataStart
    expect(sizesAtRead).to.deep.equal([['a', dataStart], ['b', dataStart + 8], ['c', dataStart + 32]])
  })

  it('refuses a TensorSource that reads other than it declared', () => {
    const file = join(dir, 'bad.safetensors')
    const short: TensorSource = {shape: [4], dtype: 'F32', read: () => new Float32Array(3)}
    expect(() => writeSafetensors(file, {x: short})).to.throw(/source read 3 F32 values, declared F32\[4\]/)
    const wrongType: TensorSource = {shape: [2], dtype: 'F32', read: () => new Int32Array(2)}
    expect(() => writeSafetensors(file, {x: wrongType})).to.throw(/source read 2 I32 values, declared F32\[2\]/)
  })

  it('decodes F16 including subnormals, signed zero, infinities and NaN', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00]
    const f = float16ToFloat32(Uint16Array.from(bits))
    expect([...f.slice(0, 6)]).to.deep.equal([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14])
    expect(Object.is(f[6], -0)).to.equal(true)
    expect(f[7]).to.equal(Infinity)
    expect(f[8]).to.equal(-Infinity)
    expect(Number.isNaN(f[9])).to.equal(true)
  })

  it('decodes every one of the 65536 halves so that re-encoding gives the same bits (NaNs stay NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i)
    const f = float16ToFloat32(all)
    const bad: number[] = []
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0
      if (isNaN ? !Number.isNaN(f[h]) : toHalfBits(f[h]) !== h) bad.push(h)
    }
    expect(bad).to.deep.equal([])
  })

  it('decodes BF16 as the upper half of float32', () => {
    const f = bfloat16ToFloat32(Uint16Array.from([0x3f80, 0xc0a0, 0x0001, 0x7f80, 0x7fc0]))
    expect([...f.slice(0, 4)]).to.deep.equal([1, -5, new Float32Array(new Uint32Array([0x10000]).buffer)[0], Infinity])
    expect(Number.isNaN(f[4])).to.equal(true)
  })

  it('reads F16 and BF16 tensors from a file widened to float32, keeping the stored dtype', () => {
    const file = join(dir, 'h.safetensors')
    writeRaw16(file, {h: {dtype: 'F16', bits: [0x3c00, 0x3555]}, b: {dtype: 'BF16', bits: [0x4049]}})
    const {tensors} = readSafetensors(file)
    expect(tensors.get('h')!.dtype).to.equal('F16')
    expect(tensors.get('h')!.data[1]).to.be.closeTo(1 / 3, 1e-3)
    expect(tensors.get('b')!.data[0]).to.be.closeTo(3.140625, 0)
  })
})
