import * as tf from '#tfjs'
import {expect} from 'chai'
import {initBackend} from '../../../src/runtime/backend.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {defineMatMulCases} from './matmul-cases.js'
import {values} from './naive.js'

describe('native kernels on the wasm heap', function () {
  before(async function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok) {
      console.log(`    (skipped: native addon unavailable: ${loaded.why})`)
      this.skip()
    }
    const info = await initBackend({backend: 'wasm', native: 'on'})
    expect(info.native).to.equal(true)
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  describe('BatchMatMul via sgemm', () => {
    defineMatMulCases()
  })

  describe('Transpose', () => {
    const cases: Array<[number[], number[], tf.DataType]> = [
      [[8, 5, 4, 3], [0, 2, 1, 3], 'float32'],
      [[2, 3, 4, 5, 6], [0, 3, 1, 4, 2], 'float32'],
      [[7, 9], [1, 0], 'int32'],
      [[3, 1, 4], [2, 0, 1], 'bool'],
    ]
    for (const [shape, perm, dtype] of cases) {
      it(`permutes ${dtype} [${shape}] by [${perm}] exactly like the cpu backend`, async () => {
        const size = shape.reduce((x, y) => x * y, 1)
        const data = dtype === 'float32' ? values(size, 3) : Int32Array.from({length: size}, (_, i) => (dtype === 'bool' ? i % 3 === 0 ? 1 : 0 : i * 7 - 50))
        const got = tf.tidy(() => tf.transpose(tf.tensor(data, shape, dtype), perm))
        const gotValues = Array.from(got.dataSync())
        const gotShape = got.shape
        got.dispose()
        await tf.setBackend('cpu')
        const want = tf.tidy(() => tf.transpose(tf.tensor(data, shape, dtype), perm))
        const wantValues = Array.from(want.dataSync())
        want.dispose()
        await tf.setBackend('wasm')
        expect(gotShape).to.deep.equal(perm.map((p) => shape[p]))
        expect(gotValues).to.deep.equal(wantValues)
      })
    }
  })

  describe('Exp and Sum', () => {
    async function onBoth(f: () => tf.Tensor): Promise<[Uint32Array, Uint32Array, number[]]> {
      const run = () => {
        const t = f()
        const bits = new Uint32Array(Float32Array.from(t.dataSync()).buffer)
        const shape = t.shape
        t.dispose()
        return {bits, shape}
      }
      const native = run()
      await initBackend({backend: 'wasm', native: 'off'})
      const stock = run()
      await initBackend({backend: 'wasm', native: 'on'})
      expect(native.shape).to.deep.equal(stock.shape)
      return [native.bits, stock.bits, native.shape]
    }

    it('registers Exp and Sum after the bit-identity probe on this system', async () => {
      const info = await initBackend({backend: 'wasm', native: 'on'})
      expect(info.kernels).to.include.members(['native:Exp', 'native:Sum'])
    })

    it('computes exp bit-identical to wasm, overflow and underflow included', async () => {
      const x = Float32Array.from(values(5000, 21), (v, i) => (i % 50 === 0 ? v * 200 : v * 30))
      const [mine, stock] = await onBoth(() => tf.tidy(() => tf.exp(tf.tensor(x, [50, 100]))))
      expect(Array.from(mine)).to.deep.equal(Array.from(stock))
    })

    for (const [shape, axis, keepDims] of [[[300, 7], 0, false], [[4, 30, 5], [0, 1], true], [[6, 5], [0, 1], false], [[3, 4, 5], 1, false], [[3, 4, 5], -1, true]] as const) {
      it(`sums [${shape}] over axis ${JSON.stringify(axis)} (keepDims ${keepDims}) bit-identical to wasm`, async () => {
        const size = shape.reduce((p, q) => p * q, 1)
        const x = values(size, 31)
        const [mine, stock] = await onBoth(() => tf.tidy(() => tf.sum(tf.tensor(x, [...shape]), axis as number | number[], keepDims)))
        expect(Array.from(mine)).to.deep.equal(Array.from(stock))
      })
    }

    it('leaves int32 sums to the stock kernel', () => {
      const got = tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0))
      expect(got.dtype).to.equal('int32')
      expect(Array.from(got.dataSync())).to.deep.equal([4, 6])
      got.dispose()
    })
  })

  it('rejects an operand outside the heap instead of touching memory', () => {
    const loaded = loadNativeKernels()
    if (!loaded.ok) throw new Error('unreachable: skipped above')
    const heap = new ArrayBuffer(64)
    expect(() => loaded.kernels.sgemm(heap, 1, 4, 4, 4, 0, 0, 0, 0, 0, 0, 16)).to.throw(RangeError, /outside the heap/)
  })

  it('rejects update-loop operands outside the heap (adamw, sumsq, scale)', function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok) throw new Error('unreachable: skipped above')
    const {adamw, sumsq, scale} = loaded.kernels
    if (adamw === undefined || sumsq === undefined || scale === undefined) {
      console.log('    (skipped: the addon predates the update loops; rebuild with `node native/build.mjs`)')
      this.skip()
    }
    const heap = new ArrayBuffer(64) // 16 floats
    expect(() => adamw(heap, 0, 16, 32, 48, 5, 0.1, 0.9, 0.001, 0.999, 1, 1e-6, 0.01, 1, false)).to.throw(RangeError, /outside the heap/)
    expect(() => sumsq(heap, 32, 9)).to.throw(RangeError, /outside the heap/)
    expect(() => scale(heap, 2, 1, 0.5)).to.throw(RangeError, /outside the heap/) // misaligned
    const x = new Float32Array(heap)
    x.set([3, 4], 14)
    expect(sumsq(heap, 56, 2)).to.equal(25)
    scale(heap, 56, 2, 0.5)
    expect(Array.from(x.subarray(14))).to.deep.equal([1.5, 2])
  })
})
