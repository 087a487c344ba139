/**
 * The native backend's work-claiming pool (native/rtd_pool.c): the loops it threads give the
 * same bits on one thread and on several (a chunk never changes an element's operations); the
 * matrix products, whose blocks OpenBLAS rounds a little differently from a whole product, give
 * the same bits run after run and one thread's to float32 rounding; and thousands of
 * back-to-back jobs lose or repeat no chunk.
 */
import {expect} from 'chai'
import {hasArrayKernels, type NativeArrayKernels} from '../../../src/runtime/native-backend/native-kernels.js'
import {loadNativeKernels, type NativeKernels} from '../../../src/runtime/native/load-native.js'

type Pooled = NativeKernels & NativeArrayKernels & {
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void
  geluGrad(dy: Float32Array, x: Float32Array, out: Float32Array, n: number): void
  attentionProbs(c2c: Float32Array, c2p: Float32Array | null, p2c: Float32Array | null, mask: Float32Array, out: Float32Array, y: Float32Array | null, keep: Uint8Array | null,
    X: number, N: number, maskRows: number, c: number, s0: number, s1: number, s2: number, keepProb: number): void
  sampleRows(logits: Float32Array, uniforms: Float64Array, out: Int32Array, vocab: number, temperature: number): void
}

function kernels(): Pooled | undefined {
  const loaded = loadNativeKernels()
  return loaded.ok && hasArrayKernels(loaded.kernels) && typeof (loaded.kernels as Partial<Pooled>).attentionProbs === 'function' ? (loaded.kernels as Pooled) : undefined
}

function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n)
  let s = seed * 7919 + 1
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    v[i] = (s / 2 ** 32 - 0.5) * 4
  }
  return v
}

/** The bytes of `run`'s outputs on `threads` threads. */
function on(nk: Pooled, threads: number, run: () => ArrayBufferView[]): Buffer[] {
  nk.setThreadsAll(threads)
  return run().map((a) => Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)))
}

describe('native pool', function () {
  const nk = kernels()
  before(function () {
    if (nk === undefined) this.skip()
  })
  after(() => nk?.setThreadsAll(2))

  it('matrix products: the same bits run after run, one thread\'s to float32 rounding', () => {
    const k = nk!
    const cases: Array<[string, () => Float32Array]> = [
      ['one product, rows split', () => {
        const c = new Float32Array(1024 * 128)
        k.mm(values(1024 * 128, 1), values(128 * 128, 2), c, 1, 1024, 128, 128, 0, 1, 0, 0, values(128, 3), 0, 0)
        return c
      }],
      ['weight gradient (transposed A, columns of one product)', () => {
        const c = new Float32Array(128 * 512)
        k.mm(values(1024 * 128, 4), values(1024 * 512, 5), c, 1, 128, 512, 1024, 1, 0, 0, 0, null, 0, 0)
        return c
      }],
      ['a batch of 4 products [1024, 127] (fewer than 2 per thread: blocks)', () => {
        const c = new Float32Array(4 * 1024 * 127)
        k.mm(values(4 * 1024 * 32, 6), values(4 * 127 * 32, 7), c, 4, 1024, 127, 32, 0, 1, 1024 * 32, 127 * 32, null, 0, 0)
        return c
      }],
    ]
    for (const [name, run] of cases) {
      k.setThreadsAll(1)
      const one = run()
      for (const threads of [2, 3]) {
        k.setThreadsAll(threads)
        const first = run()
        expect(Buffer.from(run().buffer).equals(Buffer.from(first.buffer)), `${name}: two runs on ${threads} threads`).to.equal(true)
        const scale = one.reduce((m, v) => Math.max(m, Math.abs(v)), 1)
        const worst = first.reduce((m, v, i) => Math.max(m, Math.abs(v - one[i]!)), 0)
        expect(worst, `${name} on ${threads} threads`).to.be.at.most(1e-5 * scale)
      }
    }
  })

  it('softmax, GELU gradient, attention probabilities and sampling: the same bits on 1, 2 and 3 threads', () => {
    const k = nk!
    const cases: Array<[string, () => ArrayBufferView[]]> = [
      ['softmax rows', () => {
        const o = new Float32Array(256 * 4000)
        k.softmax(values(256 * 4000, 8), o, 256, 4000)
        return [o]
      }],
      ['GELU gradient', () => {
        const o = new Float32Array(1024 * 512)
        k.geluGrad(values(1024 * 512, 9), values(1024 * 512, 10), o, 1024 * 512)
        return [o]
      }],
      ['attention probabilities with dropout', () => {
        const X = 64, N = 64, n = X * N * N, w = X * N * (2 * N - 1)
        const out = new Float32Array(n), y = new Float32Array(n), keep = new Uint8Array(n)
        k.attentionProbs(values(n, 11), values(w, 12), values(w, 13), new Float32Array(16 * N), out, y, keep, X, N, 16, 1, 0.25, 0.5, 0.75, 0.9)
        return [out, y, keep]
      }],
      ['sampling rows', () => {
        const out = new Int32Array(256)
        k.sampleRows(values(256 * 4000, 14), Float64Array.from({length: 256}, (_, i) => (i + 0.5) / 256), out, 4000, 3)
        return [out]
      }],
    ]
    for (const [name, run] of cases) {
      const one = on(k, 1, run)
      for (const threads of [2, 3]) {
        const many = on(k, threads, run)
        for (const [i, b] of one.entries()) expect(many[i]!.equals(b), `${name}: output ${i} on ${threads} threads`).to.equal(true)
      }
    }
  })

  it('thousands of back-to-back jobs of a few chunks each lose and repeat none', () => {
    const k = nk!
    // products just above the threaded path's size, so each call is one job of 2-4 chunks
    const shapes: Array<[number, number, number, number]> = [[1, 96, 40, 24], [3, 40, 40, 24], [2, 64, 64, 17], [5, 33, 20, 41]]
    const inputs = shapes.map(([b, m, n, kk], i) => ({b, m, n, kk, a: values(b * m * kk, 20 + i), bb: values(b * kk * n, 30 + i)}))
    const product = (s: (typeof inputs)[number]) => {
      const c = new Float32Array(s.b * s.m * s.n).fill(NaN)
      k.mm(s.a, s.bb, c, s.b, s.m, s.n, s.kk, 0, 0, s.m * s.kk, s.kk * s.n, null, 0, 0)
      return c
    }
    k.setThreadsAll(1)
    const single = inputs.map(product)
    k.setThreadsAll(2)
    const want = inputs.map(product)
    for (const [i, w] of want.entries()) {
      const worst = w.reduce((m, v, j) => Math.max(m, Math.abs(v - single[i]![j]!)), 0) // NaN (a lost chunk) fails too
      expect(worst, `shape ${i}`).to.be.at.most(1e-4)
    }
    for (let rep = 0; rep < 1500; rep++) {
      const i = rep % inputs.length
      const got = product(inputs[i]!)
      if (!Buffer.from(got.buffer).equals(Buffer.from(want[i]!.buffer))) expect.fail(`job ${rep} (shape ${i}) differs from the first run's result`)
    }
  })
})
