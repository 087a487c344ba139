// Shared matmul cases for the wasm (XNNPACK-routed) and native BatchMatMul tests.
import * as tf from '#tfjs'
import {expect} from 'chai'
import {maxAbsDiff, naiveMatMul2d, values} from './naive.js'

/** [aBatch, bBatch] shapes (without the matrix dims) and matrix sizes. */
const BATCHES: Array<[number[], number[]]> = [[[], []], [[3], [3]], [[3], []], [[], [3]], [[2, 3], [2, 3]], [[2, 3], []], [[2, 1], [2, 3]], [[2, 3], [1, 3]], [[4], [2, 1, 1]]]
const SIZES: Array<[number, number, number]> = [[5, 7, 4], [1, 6, 3], [4, 1, 5], [3, 6, 1]]

function stored(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return transposed ? [...batch, cols, rows] : [...batch, rows, cols]
}

/** Reference [..batch, M, N] from the naive product, broadcasting batch dims. */
function reference(a: Float32Array, b: Float32Array, aBatch: number[], bBatch: number[], m: number, k: number, n: number, ta: boolean, tb: boolean) {
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch)
  const batch = outBatch.reduce((x, y) => x * y, 1)
  const out = new Float64Array(batch * m * n)
  const index = (i: number, shape: number[]) => {
    // Index into a batch of `shape` (right-aligned, size-1 dims broadcast) for output batch i.
    let rest = i
    let idx = 0
    let stride = 1
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const od = outBatch[d]!
      const coord = rest % od
      rest = Math.floor(rest / od)
      const sd = shape[d - (outBatch.length - shape.length)] ?? 1
      if (d - (outBatch.length - shape.length) >= 0) {
        idx += (sd === 1 ? 0 : coord) * stride
        stride *= sd
      }
    }
    return idx
  }
  for (let i = 0; i < batch; i++) {
    const ai = index(i, aBatch)
    const bi = index(i, bBatch)
    out.set(naiveMatMul2d(a.subarray(ai * m * k, (ai + 1) * m * k), b.subarray(bi * k * n, (bi + 1) * k * n), m, k, n, ta, tb), i * m * n)
  }
  return {shape: [...outBatch, m, n], values: out}
}

/** Registers one `it` per case: tf.matMul on the active backend equals the naive product. */
export function defineMatMulCases(): void {
  for (const [aBatch, bBatch] of BATCHES) {
    for (const [m, k, n] of SIZES) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`multiplies [${aBatch}|${m}x${k}]${ta ? 'T' : ''} by [${bBatch}|${k}x${n}]${tb ? 'T' : ''}`, () => {
            const aShape = stored(aBatch, m, k, ta)
            const bShape = stored(bBatch, k, n, tb)
            const a = values(aShape.reduce((x, y) => x * y, 1), 7 * m + k)
            const b = values(bShape.reduce((x, y) => x * y, 1), 11 * n + k)
            const before = tf.memory().numTensors
            const dataIdsBefore = tf.engine().backend.numDataIds() // catches kernel-internal buffers too
            const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb))
            const want = reference(a, b, aBatch, bBatch, m, k, n, ta, tb)
            expect(got.shape).to.deep.equal(want.shape)
            expect(maxAbsDiff(got.dataSync(), want.values)).to.be.below(1e-5)
            got.dispose()
            expect(tf.memory().numTensors).to.equal(before)
            expect(tf.engine().backend.numDataIds()).to.equal(dataIdsBefore)
          })
        }
      }
    }
  }

  defineBroadcastGradCase()

  it('adds a rank-1 bias to every batch of a fused matmul and applies relu', () => {
    const [m, k, n] = [4, 5, 3]
    const a = values(2 * m * k, 5)
    const b = values(2 * n * k, 6)
    const bias = [0.5, -0.25, 1]
    const got = tf.tidy(() => tf.fused.matMul({a: tf.tensor(a, [2, m, k]), b: tf.tensor(b, [2, n, k]), transposeB: true, bias: tf.tensor1d(bias), activation: 'relu'}))
    const want = reference(a, b, [2], [2], m, k, n, false, true).values.map((v, i) => Math.max(0, v + bias[i % n]!))
    expect(maxAbsDiff(got.dataSync(), want)).to.be.below(1e-5)
    got.dispose()
  })

  it('gives matMul gradients equal to the naive transposed products', () => {
    const [m, k, n] = [3, 4, 2]
    const a = values(2 * m * k, 8)
    const b = values(2 * k * n, 9)
    const dy = values(2 * m * n, 10)
    const [da, db] = tf.tidy(() => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), tf.tensor(dy, [2, m, n]))))
      // Both sides batched: tfjs 4.22's BatchMatMul gradient does not reduce a broadcast batch.
      return g([tf.tensor(a, [2, m, k]), tf.tensor(b, [2, k, n])])
    })
    // dA = dY B^T and dB = A^T dY, per batch.
    const wantDa = new Float64Array(2 * m * k)
    const wantDb = new Float64Array(2 * k * n)
    for (let i = 0; i < 2; i++) {
      const dyi = dy.subarray(i * m * n, (i + 1) * m * n)
      wantDa.set(naiveMatMul2d(dyi, b.subarray(i * k * n, (i + 1) * k * n), m, n, k, false, true), i * m * k)
      wantDb.set(naiveMatMul2d(a.subarray(i * m * k, (i + 1) * m * k), dyi, k, m, n, true, false), i * k * n)
    }
    expect(maxAbsDiff(da!.dataSync(), wantDa)).to.be.below(1e-5)
    expect(maxAbsDiff(db!.dataSync(), wantDb)).to.be.below(1e-5)
    tf.dispose([da!, db!])
  })
}

/** Gradient of a broadcast matmul (the DeBERTa c2p shape) against the naive sums, on any backend. */
export function defineBroadcastGradCase(): void {
  it('sums the gradient of a batch-broadcast operand over the broadcast axes', () => {
    const [bsz, nh, m, k, n] = [2, 3, 4, 5, 6]
    const q = values(bsz * nh * m * k, 12) // [B, nh, M, K]
    const pos = values(nh * n * k, 13) // [nh, N, K] (used transposed), broadcast over B
    const dy = values(bsz * nh * m * n, 14)
    const [dq, dpos] = tf.tidy(() => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), tf.tensor(dy, [bsz, nh, m, n]))))
      return g([tf.tensor(q, [bsz, nh, m, k]), tf.tensor(pos, [nh, n, k])])
    })
    expect(dq!.shape).to.deep.equal([bsz, nh, m, k])
    expect(dpos!.shape).to.deep.equal([nh, n, k])
    // dPos[h] = sum_b dY[b,h]^T Q[b,h]
    const want = new Float64Array(nh * n * k)
    for (let b = 0; b < bsz; b++) {
      for (let h = 0; h < nh; h++) {
        const i = b * nh + h
        const part = naiveMatMul2d(dy.subarray(i * m * n, (i + 1) * m * n), q.subarray(i * m * k, (i + 1) * m * k), n, m, k, true, false)
        part.forEach((v, j) => (want[h * n * k + j] += v))
      }
    }
    expect(maxAbsDiff(dpos!.dataSync(), want)).to.be.below(1e-5)
    tf.dispose([dq!, dpos!])
  })
}
