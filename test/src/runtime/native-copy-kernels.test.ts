import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {expect} from 'chai'
import {initBackend} from '../../../src/runtime/backend.js'
import {stockKernel} from '../../../src/runtime/kernels/register-kernel.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'
import {values} from './naive.js'

/** The raw bytes and shape of a kernel output (then disposed). */
function take(backend: BackendWasm, out: tf.TensorInfo): {bytes: Uint8Array; shape: number[]; dtype: string} {
  const data = backend.readSync(out.dataId) as Float32Array | Int32Array | Uint8Array
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
  const result = {bytes, shape: [...out.shape], dtype: out.dtype}
  backend.disposeData(out.dataId)
  return result
}

/** Runs the registered (native) kernel and the stock wasm kernel on the same inputs. */
function both(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) {
  const backend = tf.backend() as unknown as BackendWasm
  const registered = tf.getKernel(name, 'wasm')!
  const stock = stockKernel(name, 'wasm')!
  expect(registered.kernelFunc, `${name} should be the native kernel`).to.not.equal(stock.kernelFunc)
  const args = {inputs, backend, attrs} as unknown as Parameters<tf.KernelFunc>[0]
  const mine = take(backend, registered.kernelFunc(args) as tf.TensorInfo)
  const theirs = take(backend, stock.kernelFunc(args) as tf.TensorInfo)
  return {mine, theirs}
}

function expectSame(r: ReturnType<typeof both>): void {
  expect(r.mine.shape).to.deep.equal(r.theirs.shape)
  expect(r.mine.dtype).to.equal(r.theirs.dtype)
  expect(r.mine.bytes.length).to.equal(r.theirs.bytes.length)
  // Byte equality: NaN payloads and -0 included.
  expect(Buffer.from(r.mine.bytes).equals(Buffer.from(r.theirs.bytes))).to.equal(true)
}

/** A tensor of `shape` whose values are distinct (floats with NaN/-0 mixed in, ints, bools). */
function input(shape: number[], dtype: 'float32' | 'int32' | 'bool', seed: number): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1)
  if (dtype === 'float32') {
    const v = values(n, seed)
    if (n > 3) {
      v[1] = NaN
      v[2] = -0
    }
    return tf.tensor(v, shape, 'float32')
  }
  const ints = Int32Array.from({length: n}, (_, i) => (dtype === 'bool' ? (i * 7 + seed) % 3 === 0 ? 1 : 0 : i * 31 - 1000 + seed))
  return tf.tensor(ints, shape, dtype)
}

/** Deterministic int32 indices in [0, dim) of `shape`. */
function indices(shape: number[], dim: number, seed: number): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1)
  let s = seed
  const v = Int32Array.from({length: n}, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s % dim
  })
  return tf.tensor(v, shape, 'int32')
}

describe('native GatherV2 and Slice on the wasm heap', function () {
  before(async function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok) {
      console.log(`    (skipped: native addon unavailable: ${loaded.why})`)
      this.skip()
    }
    if (typeof loaded.kernels.gather !== 'function' || typeof loaded.kernels.slice !== 'function') {
      console.log('    (skipped: the addon predates gather/slice; rebuild with `node native/build.mjs`)')
      this.skip()
    }
    const info = await initBackend({backend: 'wasm', native: 'on'})
    expect(info.kernels).to.include.members(['native:GatherV2', 'native:Slice'])
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  describe('GatherV2, bytes equal to the stock wasm kernel', () => {
    // [x shape, indices shape, axis, batchDims, dtype]
    const cases: Array<[number[], number[], number, number, 'float32' | 'int32' | 'bool']> = [
      [[1024, 256], [154], 0, 0, 'float32'], // masked rows [M] from [B*N, H]
      [[8000, 256], [8, 128], 0, 0, 'float32'], // embedding rows from [V, H]
      [[256, 256], [255], 0, 0, 'float32'], // relative positions: [2N-1] rows from [2k, H]
      [[154 * 8000], [154], 0, 0, 'float32'], // picked logits from the flat [M*V]
      [[7, 5, 3], [4, 2], 1, 0, 'float32'],
      [[7, 5, 3], [6], 2, 0, 'float32'],
      [[7, 5, 3], [6], -1, 0, 'int32'],
      [[2, 3, 4, 5], [3, 3], 2, 0, 'float32'],
      [[4, 6], [4, 3], 1, 1, 'float32'], // batchDims 1: left to the stock kernel
      [[9, 4], [12], 0, 0, 'bool'],
      [[5, 1], [0], 0, 0, 'float32'], // no indices
      [[5, 0], [3], 0, 0, 'float32'], // empty x: left to the stock kernel
      [[5, 0], [0], 0, 0, 'float32'],
      [[6], [6, 2], 0, 0, 'int32'],
    ]
    for (const [shape, idxShape, axis, batchDims, dtype] of cases) {
      it(`gathers ${dtype} [${shape}] by [${idxShape}] on axis ${axis} (batchDims ${batchDims})`, () => {
        const x = input(shape, dtype, shape.length)
        const a = axis < 0 ? axis + shape.length : axis
        const idx = indices(idxShape, Math.max(shape[a]!, 1), 7)
        try {
          if (batchDims > 0) {
            // left to the stock kernel, which reads out of bounds on this case depending on what the
            // heap holds ("memory access out of bounds" after some earlier test files): the
            // registered kernel must do exactly what the stock one does, result or error
            const outcome = (f: () => unknown) => {
              try {
                return f()
              } catch (e) {
                return (e as Error).message
              }
            }
            const backend = tf.backend() as unknown as BackendWasm
            const args = {inputs: {x, indices: idx}, backend, attrs: {axis, batchDims}} as unknown as Parameters<tf.KernelFunc>[0]
            const mine = outcome(() => take(backend, tf.getKernel(tf.GatherV2, 'wasm')!.kernelFunc(args) as tf.TensorInfo))
            const theirs = outcome(() => take(backend, stockKernel(tf.GatherV2, 'wasm')!.kernelFunc(args) as tf.TensorInfo))
            expect(mine).to.deep.equal(theirs)
            return
          }
          expectSame(both(tf.GatherV2, {x, indices: idx}, {axis, batchDims}))
        } finally {
          tf.dispose([x, idx])
        }
      })
    }

    it('matches tf.gather through the op (values and shape)', () => {
      const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]])
      const got = tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'))
      expect(got.shape).to.deep.equal([3, 2])
      expect(Array.from(got.dataSync())).to.deep.equal([5, 6, 1, 2, 5, 6])
      tf.dispose([x, got])
    })

    for (const bad of [3, -1, 1000]) {
      it(`throws wasm's own error for index ${bad} outside [0, 3) and writes nothing`, () => {
        const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]])
        const before = tf.memory().numTensors
        expect(() => tf.gather(x, tf.tensor1d([0, bad], 'int32'))).to.throw(new RegExp(`GatherV2: the index value ${bad} is not in \\[0, 2\\]`))
        // Only the indices tensor made inside the expect stays (not the failed outputs).
        expect(tf.memory().numTensors).to.be.at.most(before + 1)
        tf.dispose(x)
      })
    }
  })

  describe('Slice, bytes equal to the stock wasm kernel', () => {
    // [x shape, begin, size, dtype]
    const cases: Array<[number[], number[], number[], 'float32' | 'int32' | 'bool']> = [
      [[32, 128 * 255], [0, 127], [32, 128 * 254], 'float32'], // relative shift: [X, n(2n-1)] from n-1
      [[32, 128, 254], [0, 0, 0], [32, 128, 128], 'float32'], // [X, n, 2n-2] -> [X, n, n]
      [[8, 128, 256], [0, 0, 0], [8, 1, 256], 'float32'], // CLS rows [B, 1, H]
      [[10, 7], [3, 2], [4, 5], 'float32'],
      [[10, 7], [3, 0], [4, 7], 'int32'], // contiguous
      [[10, 7], [0, 6], [-1, 1], 'float32'], // size -1
      [[4, 5, 6], [1, 2, 3], [2, 3, 3], 'float32'],
      [[4, 5, 6], [1, 0, 0], [2, 5, 6], 'float32'],
      [[4, 5, 6], [0, 4, 0], [4, 1, 6], 'bool'],
      [[3, 4, 5, 6], [1, 1, 1, 1], [2, 2, 3, 4], 'float32'],
      [[3, 4, 5, 6], [0, 2, 0, 0], [3, 2, 5, 6], 'int32'],
      [[3, 4, 5, 6], [2, 3, 4, 5], [1, 1, 1, 1], 'float32'],
      [[3, 4, 5, 6], [0, 0, 0, 2], [-1, -1, -1, 3], 'bool'],
      [[2, 3, 2, 3, 4], [1, 0, 1, 1, 1], [1, 3, 1, 2, 2], 'float32'], // rank 5
      [[17], [4], [9], 'float32'],
      [[6, 5], [2, 1], [0, 3], 'float32'], // empty
    ]
    for (const [shape, begin, size, dtype] of cases) {
      it(`slices ${dtype} [${shape}] from [${begin}] size [${size}]`, () => {
        const x = input(shape, dtype, shape.length + 3)
        try {
          expectSame(both(tf.Slice, {x}, {begin, size}))
        } finally {
          x.dispose()
        }
      })
    }

    it('matches tf.slice through the op', () => {
      const x = tf.tensor3d([...Array(24).keys()], [2, 3, 4], 'int32')
      const got = tf.slice(x, [1, 1, 2], [1, 2, 2])
      expect(got.shape).to.deep.equal([1, 2, 2])
      expect(Array.from(got.dataSync())).to.deep.equal([18, 19, 22, 23])
      tf.dispose([x, got])
    })
  })

  it('rejects gather and slice operands outside the heap or the input', () => {
    const loaded = loadNativeKernels()
    if (!loaded.ok || !loaded.kernels.gather || !loaded.kernels.slice) throw new Error('unreachable: skipped above')
    const heap = new ArrayBuffer(64) // 16 floats
    const {gather, slice} = loaded.kernels
    expect(() => gather(heap, 0, 0, 32, 1, 1, 4, 8, 2, 4)).to.throw(RangeError, /outside the heap/) // x [4, 8] is 128 bytes
    expect(() => slice(heap, 0, 0, [4, 4], [2, 0], [3, 4], 4)).to.throw(RangeError, /outside the input/)
    expect(() => slice(heap, 0, 48, [4, 4], [0, 0], [2, 4], 4)).to.throw(RangeError, /outside the heap/)
    // An index outside [0, dim) is reported by position, with nothing written.
    const f = new Int32Array(heap)
    f.set([10, 11, 12, 13], 0) // x [4, 1]
    f.set([1, 4], 4) // indices
    f.fill(-7, 8)
    expect(gather(heap, 0, 16, 32, 1, 1, 4, 1, 2, 4)).to.equal(1)
    expect(Array.from(f.subarray(8, 10))).to.deep.equal([-7, -7])
    f[5] = 3
    expect(gather(heap, 0, 16, 32, 1, 1, 4, 1, 2, 4)).to.equal(-1)
    expect(Array.from(f.subarray(8, 10))).to.deep.equal([11, 13])
  })
})
