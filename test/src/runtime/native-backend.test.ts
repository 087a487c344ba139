/**
 * The native backend (issue 10): every C kernel gives the cpu backend's results (to float32
 * rounding) over the shapes the model uses and the edge cases of each kernel (broadcasts,
 * transposes, batch broadcast, fused bias and activations, reductions over inner, leading and
 * middle axes, out-of-range gather indices), tensors own their storage, and `auto` picks it.
 */
import * as tf from '#tfjs'
import {expect} from 'chai'
import {ATTENTION_PROBS_GRAD_KERNEL, ATTENTION_PROBS_KERNEL, attentionProbs, attentionProbsComposition, type AttentionScoreTerms, DROPOUT_GRAD_KERNEL, DROPOUT_KERNEL, DROPOUT_MULTIPLIER_KERNEL, dropoutWithSeed, GELU_KERNEL, geluComposition, geluExact, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, layerNormComposition, layerNormFused, MLM_CROSS_ENTROPY_GRAD_KERNEL, MLM_CROSS_ENTROPY_KERNEL, mlmCrossEntropy, mlmCrossEntropyComposition} from '../../../src/runtime/fused-ops.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {hasArrayKernels} from '../../../src/runtime/native-backend/native-kernels.js'
import {loadNativeKernels} from '../../../src/runtime/native/load-native.js'

function nativeAvailable(): boolean {
  const loaded = loadNativeKernels()
  return loaded.ok && hasArrayKernels(loaded.kernels)
}

/** Deterministic values in [-scale, scale). */
function values(n: number, seed: number, scale = 2): Float32Array {
  const v = new Float32Array(n)
  let s = seed * 7919 + 1
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    v[i] = (s / 2 ** 32 - 0.5) * 2 * scale
  }
  return v
}

type Op = () => tf.Tensor | tf.Tensor[]

/** Runs `op` on `backend`, returning every output's shape, dtype and values. */
async function on(backend: 'cpu' | 'native', op: Op): Promise<Array<{shape: number[]; dtype: string; data: number[]}>> {
  await initBackend({backend, threads: 2})
  const out = tf.tidy(op)
  const list = Array.isArray(out) ? out : [out]
  const res = list.map((t) => ({shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync() as ArrayLike<number>)}))
  tf.dispose(list)
  return res
}

async function expectSame(op: Op, rtol = 1e-5): Promise<void> {
  const want = await on('cpu', op)
  const got = await on('native', op)
  expect(got.length).to.equal(want.length)
  for (const [i, w] of want.entries()) {
    const g = got[i]!
    expect(g.shape).to.deep.equal(w.shape)
    expect(g.dtype).to.equal(w.dtype)
    const scale = w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1)
    let worst = -1
    let err = 0
    for (let j = 0; j < w.data.length; j++) {
      const e = Number.isNaN(w.data[j]!) ? (Number.isNaN(g.data[j]!) ? 0 : Infinity) : Math.abs(g.data[j]! - w.data[j]!)
      if (!(e <= err)) [worst, err] = [j, e]
    }
    expect(err, `output ${i}, element ${worst}: ${g.data[worst]} vs ${w.data[worst]}`).to.be.at.most(rtol * scale)
  }
}

const t = (shape: number[], seed: number, scale = 2) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed, scale), shape)

describe('native backend', function () {
  this.timeout(60_000)

  before(function () {
    if (!nativeAvailable()) this.skip() // no compiler or OpenBLAS here: the wasm fallback is tested elsewhere
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
  })

  it('matmul: every transpose combination, batched, broadcast batch, fused bias and activations', async () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = (s: number) => (ta ? t([3, 5, 4], s) : t([3, 4, 5], s))
      const b = (s: number) => (tb ? t([3, 6, 5], s) : t([3, 5, 6], s))
      await expectSame(() => tf.matMul(a(1), b(2), ta, tb))
      await expectSame(() => tf.matMul(a(1), (tb ? t([6, 5], 3) : t([5, 6], 3)) as tf.Tensor2D, ta, tb)) // shared right operand
      await expectSame(() => tf.matMul((ta ? t([5, 4], 4) : t([4, 5], 4)) as tf.Tensor2D, b(5), ta, tb)) // shared left operand
    }
    // the attention shapes: many small products, enough to take the threaded path
    await expectSame(() => tf.matMul(t([2, 4, 16, 8], 6), t([2, 4, 16, 8], 7), false, true))
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const) {
      await expectSame(() => tf.fused.matMul({a: t([7, 9], 8) as tf.Tensor2D, b: t([5, 9], 9) as tf.Tensor2D, transposeB: true, bias: t([5], 10), activation}))
    }
    await expectSame(() => tf.fused.matMul({a: t([2, 3, 4], 11) as tf.Tensor3D, b: t([2, 4, 5], 12) as tf.Tensor3D, bias: t([2, 3, 5], 13)}))
    await expectSame(() => tf.matMul(t([2, 0, 3], 1), t([2, 3, 4], 2))) // empty
    await expectSame(() => tf.matMul(t([2, 1, 3, 4], 1), t([1, 2, 4, 2], 2))) // 2-d batch broadcast: the cpu kernel's path
  })

  it('matmul threaded over the cores: row and column blocks of one product, whole products, odd batches', async () => {
    // big enough to take the threaded path; odd sizes so block edges fall mid-tile
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const shapeA = (m: number, k: number, batch: number[] = []) => [...batch, ...(ta ? [k, m] : [m, k])]
      const shapeB = (k: number, n: number, batch: number[] = []) => [...batch, ...(tb ? [n, k] : [k, n])]
      await expectSame(() => tf.matMul(t(shapeA(67, 33), 1), t(shapeB(33, 45), 2), ta, tb)) // rows split
      await expectSame(() => tf.matMul(t(shapeA(21, 33), 3), t(shapeB(33, 203), 4), ta, tb)) // columns split
      await expectSame(() => tf.matMul(t(shapeA(37, 29, [3]), 5), t(shapeB(29, 41, [3]), 6), ta, tb)) // 3 products on 2 threads
      await expectSame(() => tf.matMul(t(shapeA(37, 29, [4]), 5), t(shapeB(29, 41, [4]), 6), ta, tb)) // 2 products per thread
      await expectSame(() => tf.matMul(t(shapeA(37, 29, [3]), 7), t(shapeB(29, 41), 8), ta, tb)) // shared right operand
    }
    for (const activation of ['linear', 'relu', 'elu', 'sigmoid'] as const) {
      await expectSame(() => tf.fused.matMul({a: t([67, 33], 9) as tf.Tensor2D, b: t([45, 33], 10) as tf.Tensor2D, transposeB: true, bias: t([45], 11), activation}))
      await expectSame(() => tf.fused.matMul({a: t([21, 33], 9) as tf.Tensor2D, b: t([33, 203], 10) as tf.Tensor2D, bias: t([203], 11), activation}))
    }
    // bias of one product's shape shared by a batch (folded into one product), and of the full output
    await expectSame(() => tf.fused.matMul({a: t([3, 37, 29], 12) as tf.Tensor3D, b: t([29, 41], 13) as unknown as tf.Tensor3D, bias: t([37, 41], 14), activation: 'relu'}))
    await expectSame(() => tf.fused.matMul({a: t([3, 37, 29], 12) as tf.Tensor3D, b: t([3, 29, 41], 13) as tf.Tensor3D, bias: t([3, 37, 41], 15)}))
    await expectSame(() => tf.fused.matMul({a: t([3, 37, 29], 12) as tf.Tensor3D, b: t([29, 41], 13) as unknown as tf.Tensor3D, bias: t([3, 37, 41], 15)}))
    await expectSame(() => tf.matMul(t([5, 300, 0], 1), t([5, 0, 200], 2))) // k = 0: zeros
  })

  it('elementwise: binary ops with broadcasting, AddN and unary ops', async () => {
    const shapes: Array<[number[], number[]]> = [[[4, 5], [4, 5]], [[2, 3, 4], [4]], [[2, 3, 4], [3, 1]], [[2, 1, 4], [1, 3, 1]], [[5], []], [[], [3, 2]], [[2, 3, 1, 5], [2, 1, 4, 5]]]
    for (const [sa, sb] of shapes) {
      await expectSame(() => [tf.add(t(sa, 1), t(sb, 2)), tf.sub(t(sa, 1), t(sb, 2)), tf.mul(t(sa, 1), t(sb, 2)), tf.div(t(sa, 1), t(sb, 2)),
        tf.maximum(t(sa, 1), t(sb, 2)), tf.minimum(t(sa, 1), t(sb, 2)), tf.squaredDifference(t(sa, 1), t(sb, 2))])
    }
    await expectSame(() => tf.addN([t([3, 4], 1), t([3, 4], 2), t([3, 4], 3), t([3, 4], 4)]))
    await expectSame(() => tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4, 5, 6], [3], 'int32'))) // int32: the cpu kernel
    const x = () => t([6, 50], 5)
    const pos = () => t([6, 50], 5).abs().add(0.1)
    await expectSame(() => [tf.exp(x()), tf.neg(x()), tf.square(x()), tf.abs(x()), tf.tanh(x()), tf.sigmoid(x()), tf.relu(x()), tf.erf(x()), tf.floor(x())])
    await expectSame(() => [tf.log(pos()), tf.sqrt(pos()), tf.rsqrt(pos()), tf.reciprocal(pos())])
    await expectSame(() => tf.mul(t([300, 400], 6), t([400], 7))) // large enough for the threaded loop
    // a cast from bool or int32 (the cpu kernel shares the input's array under the new dtype) feeds the float kernels
    await expectSame(() => {
      const mask = tf.greater(t([4, 6], 8), 0)
      const counts = tf.tensor([1, 2, 3, 4, 5, 6], [6], 'int32')
      return [tf.mul(t([4, 6], 9), tf.cast(mask, 'float32')), tf.add(tf.cast(counts, 'float32'), t([4, 6], 10)), tf.matMul(tf.cast(mask, 'float32'), t([6, 2], 11)),
        tf.gather(t([8, 3], 12), tf.cast(tf.greater(t([5], 13), 0), 'int32'))]
    })
  })

  it('fused GELU and its gradient equal the composition (cpu) at the model\'s and edge shapes', async () => {
    const special = tf.tensor([0, -0, 1e-30, -1e-30, 3.5, -3.5, 9, -9, 40, -40, Infinity, -Infinity, NaN])
    for (const [make, finite] of [[() => t([1024, 64], 1, 6), true], [() => t([7], 2), true], [() => t([0, 3], 3), true], [() => special.clone(), false]] as const) {
      const grad = (gelu: (x: tf.Tensor) => tf.Tensor) => () => {
        const x = make()
        const w = t(x.shape, 4)
        return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gelu(v), w)))(x)
      }
      // against the cpu backend (whose Erf is a polynomial approximation: float32 rounding apart;
      // the helper's tolerance is relative to the largest finite value)
      if (finite) {
        await expectSame(() => geluExact(make()))
        await expectSame(grad(geluExact))
      }
      // on native, against native's own composition: the same float32 operations, bit for bit
      await initBackend({backend: 'native', threads: 2})
      for (const f of [(g: typeof geluExact) => () => g(make()), grad]) {
        const fused = tf.tidy(() => Array.from(f(geluExact)().dataSync()))
        const composed = tf.tidy(() => Array.from(f(geluComposition)().dataSync()))
        expect(fused).to.deep.equal(composed)
      }
    }
    // the fused kernel really runs on native (and the composition on cpu)
    await initBackend({backend: 'native', threads: 2})
    const profile = await tf.profile(() => geluExact(t([4, 4], 5)))
    expect(profile.kernelNames).to.deep.equal([GELU_KERNEL])
  })

  it('fused LayerNorm and its gradients equal the composition (cpu, and native\'s own to the bit forward)', async () => {
    const cases: Array<[number[], number, number]> = [[[1024, 256], 1, 1e-7], [[3, 5, 7], 2, 1e-5], [[4, 1], 3, 1e-12], [[0, 8], 4, 1e-5], [[6, 33], 5, 1e-5]]
    for (const [shape, seed, eps] of cases) {
      const cols = shape[shape.length - 1]!
      const x = () => tf.add(t(shape, seed, 3), seed === 5 ? 1000 : 0) // seed 5: a large offset (cancellation in the mean)
      const g = () => t([cols], seed + 10)
      const b = () => t([cols], seed + 20)
      const grads = (ln: typeof layerNormFused) => () => {
        const w = t(shape, seed + 30)
        return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(ln(xs[0]!, xs[1]!, xs[2]!, eps), w)))([x(), g(), b()])
      }
      await expectSame(() => layerNormFused(x(), g(), b(), eps))
      await expectSame(grads(layerNormFused), 1e-4)
      await initBackend({backend: 'native', threads: 2})
      const fused = tf.tidy(() => Array.from(layerNormFused(x(), g(), b(), eps).dataSync()))
      const composed = tf.tidy(() => Array.from(layerNormComposition(x(), g(), b(), eps).dataSync()))
      expect(fused).to.deep.equal(composed)
    }
    // a row of equal values: zero variance, finite output and gradients
    await expectSame(() => layerNormFused(tf.fill([2, 16], 3), t([16], 1), t([16], 2), 1e-7))
    await expectSame(() => tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(layerNormFused(xs[0]!, xs[1]!, xs[2]!, 1e-7), t([2, 16], 3))))([tf.fill([2, 16], 3), t([16], 1), t([16], 2)]), 1e-4)
    await initBackend({backend: 'native', threads: 2})
    const profile = await tf.profile(() => tf.grads((...xs: tf.Tensor[]) => tf.sum(layerNormFused(xs[0]!, xs[1]!, xs[2]!, 1e-5)))([t([4, 8], 1), t([8], 2), t([8], 3)]))
    expect(profile.kernelNames).to.include.members([LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL])
    expect(profile.kernelNames).to.not.include('Rsqrt')
  })

  it('fused MLM cross-entropy and its gradient equal the composition (cpu, and native\'s own to the bit)', async () => {
    const cases: Array<[number, number, number]> = [[256, 4000, 1], [7, 33, 2], [1, 2, 3], [40, 517, 4]]
    for (const [M, V, seed] of cases) {
      const x = () => tf.add(t([M, V], seed, 8), seed === 4 ? 500 : 0) as tf.Tensor2D // seed 4: large logits
      const labels = () => tf.tensor1d(Array.from({length: M}, (_, i) => (i * 7919 + seed * 13) % V), 'int32')
      const both = (ce: typeof mlmCrossEntropy) => () => {
        const y = labels()
        return [ce(x(), y), tf.grad((z: tf.Tensor) => tf.mul(ce(z as tf.Tensor2D, y), 3))(x())] // dy = 3: the gradient scales by dy
      }
      await expectSame(both(mlmCrossEntropy), 1e-5)
      await initBackend({backend: 'native', threads: 2})
      const fused = tf.tidy(() => both(mlmCrossEntropy)().map((r) => Array.from(r.dataSync())))
      const composed = tf.tidy(() => both(mlmCrossEntropyComposition)().map((r) => Array.from(r.dataSync())))
      expect(fused).to.deep.equal(composed)
    }
    await initBackend({backend: 'native', threads: 2})
    const profile = await tf.profile(() => tf.grad((z: tf.Tensor) => mlmCrossEntropy(z as tf.Tensor2D, tf.tensor1d([1, 0], 'int32')))(t([2, 5], 1)))
    expect(profile.kernelNames).to.include.members([MLM_CROSS_ENTROPY_KERNEL, MLM_CROSS_ENTROPY_GRAD_KERNEL])
    expect(profile.kernelNames).to.not.include('OneHot')
    expect(() => mlmCrossEntropy(t([2, 5], 1) as tf.Tensor2D, tf.tensor1d([1, 5], 'int32'))).to.throw(/label 5 of row 1 is outside \[0, 5\)/)
  })

  it('fused dropout multiplier draws tf.dropout\'s mask from the same seed', async () => {
    for (const [shape, rate, seed] of [[[1024, 256], 0.1, 12345], [[3, 5, 7], 0.5, 0], [[1], 0.9, 4294967295], [[0, 4], 0.1, 7]] as const) {
      await expectSame(() => dropoutWithSeed(t([...shape], 6), rate, seed), 0)
      await expectSame(() => tf.dropout(t([...shape], 6), rate, undefined, seed), 0) // the reference both match
      await initBackend({backend: 'native', threads: 2})
      const fused = tf.tidy(() => Array.from(dropoutWithSeed(t([...shape], 6), rate, seed).dataSync()))
      const stock = tf.tidy(() => Array.from(tf.dropout(t([...shape], 6), rate, undefined, seed).dataSync()))
      expect(fused).to.deep.equal(stock)
      // the gradient: tf.dropout's (dy times the multiplier), to the bit
      const grad = (f: (x: tf.Tensor) => tf.Tensor) => tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), t([...shape], 8))))(t([...shape], 6)).dataSync()))
      expect(grad((x) => dropoutWithSeed(x, rate, seed))).to.deep.equal(grad((x) => tf.dropout(x, rate, undefined, seed)))
    }
    // one kernel each way on native: no multiplier, no Multiply in the forward pass
    await initBackend({backend: 'native', threads: 2})
    const profile = await tf.profile(() => tf.grad((x: tf.Tensor) => tf.sum(dropoutWithSeed(x, 0.1, 3)))(t([4, 8], 1)))
    expect(profile.kernelNames).to.include.members([DROPOUT_KERNEL, DROPOUT_GRAD_KERNEL])
    expect(profile.kernelNames).to.not.include.members([DROPOUT_MULTIPLIER_KERNEL])
  })

  it('fused attention probabilities (skews, key mask, softmax, dropout) and their gradients equal the composition', async () => {
    // [heads, batch, N, which relative terms, dropout rate, seed]
    const cases: Array<[number, number, number, 'both' | 'c2p' | 'p2c' | 'none', number, number | undefined]> = [
      [2, 4, 128, 'both', 0.1, 12345], [3, 2, 17, 'both', 0.1, 7], [2, 2, 9, 'c2p', 0.5, 0], [2, 1, 5, 'p2c', 0.1, 4294967295],
      [1, 3, 6, 'none', 0.2, 3], [2, 2, 33, 'both', 0, undefined], [1, 1, 1, 'both', 0.1, 9],
    ]
    for (const [heads, B, N, rel, rate, seed] of cases) {
      const X = heads * B
      const mask = () => {
        const m = new Float32Array(B * N)
        for (let b = 0; b < B; b++) for (let j = N - b; j < N; j++) if (j > 0) m[b * N + j] = -1e9 // pads at the end of row b
        return tf.tensor(m, [1, B, 1, N])
      }
      const names = ['c2c', ...(rel === 'both' || rel === 'c2p' ? ['c2p'] : []), ...(rel === 'both' || rel === 'p2c' ? ['p2c'] : [])]
      const inputs = () => names.map((name, i) => t(name === 'c2c' ? [X, N, N] : [X, N, 2 * N - 1], i + 1, 3))
      const terms = (xs: tf.Tensor[]) => ({maskBias: mask(), heads, ...Object.fromEntries(names.map((name, i) => [name, xs[i]]))}) as unknown as AttentionScoreTerms
      const forward = (f: typeof attentionProbs) => () => f(terms(inputs()), rate, seed)
      const grads = (f: typeof attentionProbs) => () => {
        const w = t([X, N, N], 4)
        return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(terms(xs), rate, seed), w)))(inputs())
      }
      await expectSame(forward(attentionProbs), 1e-5)
      await expectSame(grads(attentionProbs), 1e-4)
      // on native, against native's own composition: the same float32 operations, bit for bit
      await initBackend({backend: 'native', threads: 2})
      for (const f of [forward, grads]) {
        const flat = (o: tf.Tensor | tf.Tensor[]) => (Array.isArray(o) ? o : [o]).map((x) => Array.from(x.dataSync()))
        const fused = tf.tidy(() => flat(f(attentionProbs)()))
        const composed = tf.tidy(() => flat(f(attentionProbsComposition)()))
        expect(fused, `${heads}x${B}x${N} ${rel} rate ${rate}`).to.deep.equal(composed)
      }
    }
    // the fused kernels really run on native: no Softmax, no skew copies, no dropout multiplier
    await initBackend({backend: 'native', threads: 2})
    const profile = await tf.profile(() => tf.grads((...xs: tf.Tensor[]) => tf.sum(attentionProbs({c2c: xs[0] as tf.Tensor3D, c2p: xs[1] as tf.Tensor3D, p2c: xs[2] as tf.Tensor3D,
      maskBias: tf.zeros([1, 2, 1, 4]), heads: 1}, 0.1, 5)))([t([2, 4, 4], 1), t([2, 4, 7], 2), t([2, 4, 7], 3)]))
    expect(profile.kernelNames).to.include.members([ATTENTION_PROBS_KERNEL, ATTENTION_PROBS_GRAD_KERNEL])
    expect(profile.kernelNames).to.not.include.members(['Softmax'])
    expect(profile.kernelNames).to.not.include.members(['PadV2'])
  })

  it('Exp and Erf (vector math where the addon has it) are within 3 ulp of the correctly rounded value', async () => {
    // erf in double: its Maclaurin series below 3.5, the asymptotic expansion of erfc above
    const erf = (x: number): number => {
      const a = Math.abs(x)
      let r: number
      if (a < 3.5) {
        let term = a
        let sum = a
        for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
          term *= (-a * a) / n
          sum += term / (2 * n + 1)
        }
        r = (2 / Math.sqrt(Math.PI)) * sum
      } else {
        const z = 1 / (2 * a * a)
        r = 1 - (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * (1 - z + 3 * z * z - 15 * z ** 3 + 105 * z ** 4)
      }
      return x < 0 ? -r : r
    }
    const ulps = (got: Float32Array, want: number[]) => {
      const w = new Float32Array(want)
      const gi = new Int32Array(got.buffer, got.byteOffset, got.length)
      const wi = new Int32Array(w.buffer)
      let worst = 0
      for (let i = 0; i < got.length; i++) {
        const d = Math.sign(gi[i]!) === Math.sign(wi[i]!) || gi[i] === 0 || wi[i] === 0 ? Math.abs(gi[i]! - wi[i]!) : Math.abs((gi[i]! & 0x7fffffff) + (wi[i]! & 0x7fffffff))
        worst = Math.max(worst, d)
      }
      return worst
    }
    const n = 200_001
    const xs = new Float32Array(n)
    for (let i = 0; i < n; i++) xs[i] = -6 + (12 * i) / (n - 1)
    xs[0] = 1e-30 // tiny values: erf(x) ≈ 2x/√π
    xs[1] = -3.7e-12
    await initBackend({backend: 'native', threads: 2})
    const e = tf.tidy(() => tf.erf(tf.tensor(xs)).dataSync() as Float32Array)
    expect(ulps(e, Array.from(xs, (x) => erf(x)))).to.be.at.most(3)
    const ex = new Float32Array(n)
    for (let i = 0; i < n; i++) ex[i] = -87 + (175 * i) / (n - 1)
    const x2 = tf.tidy(() => tf.exp(tf.tensor(ex)).dataSync() as Float32Array)
    expect(ulps(x2, Array.from(ex, (x) => Math.exp(x)))).to.be.at.most(3)
    // every length (the vector tail) gives the same values as the same elements in a longer array
    for (const len of [1, 2, 3, 5, 7]) {
      const part = tf.tidy(() => tf.erf(tf.tensor(xs.subarray(1000, 1000 + len))).dataSync() as Float32Array)
      expect(Array.from(part)).to.deep.equal(Array.from(e.subarray(1000, 1000 + len)))
    }
  })

  it('reductions, softmax and the LayerNorm pieces', async () => {
    const x = () => t([3, 4, 5], 1)
    for (const axis of [0, 1, 2, -1, [0, 1], [1, 2], [0, 1, 2]]) {
      for (const keepDims of [false, true]) {
        await expectSame(() => [tf.sum(x(), axis, keepDims), tf.mean(x(), axis, keepDims), tf.max(x(), axis, keepDims), tf.min(x(), axis, keepDims)])
      }
    }
    await expectSame(() => tf.sum(x(), [0, 2])) // not contiguous: the cpu kernel
    await expectSame(() => tf.sum(t([70, 300], 2), 0)) // column chunks of 256 plus a partial one
    await expectSame(() => [tf.softmax(t([4, 7, 9], 3)), tf.softmax(t([5], 4))])
    await expectSame(() => {
      const v = t([2, 6, 16], 5)
      const mean = tf.mean(v, -1, true)
      const centered = tf.sub(v, mean)
      return tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), 1e-7)))
    })
  })

  it('copies: transpose, gather, slice, pad, concat and the segment sum', async () => {
    await expectSame(() => [tf.transpose(t([2, 3, 4], 1), [2, 0, 1]), tf.transpose(t([2, 3, 4, 5], 2), [0, 2, 1, 3]), tf.transpose(tf.tensor([1, 0, 1, 1, 0, 0], [2, 3], 'bool'))])
    await expectSame(() => [tf.transpose(tf.tensor([1, 2, 3, 4, 5, 6], [3, 2], 'int32'))])
    const idx = () => tf.tensor([3, 0, 0, 2], [2, 2], 'int32')
    await expectSame(() => [tf.gather(t([4, 3], 1), idx()), tf.gather(t([2, 4, 3], 2), idx(), 1), tf.gather(t([2, 3, 4], 3), tf.tensor([1, 3], [2], 'int32'), 2)])
    // an index out of range: the cpu kernel's error
    await initBackend({backend: 'native'})
    expect(() => tf.gather(t([4, 3], 1), tf.tensor([0, 7], [2], 'int32')).dataSync()).to.throw(/7/)
    await expectSame(() => [tf.slice(t([4, 5, 6], 1), [1, 0, 2], [2, 5, 3]), tf.slice(t([4, 5, 6], 1), [0, 2, 0], [4, 2, 6]), tf.slice(tf.tensor([1, 2, 3, 4], [4], 'int32'), [1], [2])])
    await expectSame(() => [tf.pad(t([2, 3], 1), [[1, 2], [0, 3]]), tf.pad(t([2, 3, 4], 2), [[0, 0], [1, 1], [2, 0]], 1.5)])
    await expectSame(() => [tf.concat([t([2, 3], 1), t([2, 4], 2), t([2, 0], 3)], 1), tf.concat([t([2, 3], 1), t([1, 3], 2)], 0), tf.concat([t([2, 3, 2], 1), t([2, 1, 2], 2)], 1)])
    await expectSame(() => tf.unsortedSegmentSum(t([6, 5], 1), tf.tensor([2, 0, 2, -1, 1, 2], [6], 'int32'), 4))
  })

  it('gradients of an embedding lookup and a sliced, padded product agree with cpu', async () => {
    await expectSame(() => {
      const table = t([10, 4], 1)
      const f = (w: tf.Tensor) => tf.sum(tf.square(tf.slice(tf.matMul(tf.gather(w, tf.tensor([1, 3, 3, 9], [4], 'int32')), t([4, 6], 2)), [1, 2], [2, 3])))
      return tf.grad(f)(table)
    })
  })

  it('owns its storage: tf.tensor copies the caller\'s array and reads return copies', async () => {
    await initBackend({backend: 'native'})
    const host = new Float32Array([1, 2, 3])
    const x = tf.tensor(host)
    host[0] = 99
    const read = x.dataSync() as Float32Array
    read[1] = 42
    expect(Array.from(x.dataSync())).to.deep.equal([1, 2, 3])
    x.dispose()
  })

  it('auto picks native when the addon is built and says so once', async () => {
    const messages: string[] = []
    const info = await initBackend({backend: 'auto', log: (m) => messages.push(m)})
    await initBackend({backend: 'auto', log: (m) => messages.push(m)})
    expect(info.backend).to.equal('native')
    expect(tf.getBackend()).to.equal('native')
    expect(info.kernels).to.include.members(['native:BatchMatMul', 'native:_FusedMatMul', 'native:Softmax', 'native:AdamW'])
    expect(messages.filter((m) => m.startsWith('backend native'))).to.have.length(1)
  })
})

describe('native backend unavailable', () => {
  const saved = process.env['RTD_NATIVE_ADDON']
  afterEach(async () => {
    if (saved === undefined) delete process.env['RTD_NATIVE_ADDON']
    else process.env['RTD_NATIVE_ADDON'] = saved
    await initBackend({backend: 'wasm', native: 'off'})
  })

  it('auto falls back to wasm with one line saying what to install', async () => {
    process.env['RTD_NATIVE_ADDON'] = '/nonexistent/rtd_native.node'
    const messages: string[] = []
    // native: 'off' keeps the wasm BLAS kernels' own note (logged once per process) out of this test
    const info = await initBackend({backend: 'auto', native: 'off', log: (m) => messages.push(m)})
    expect(info.backend).to.equal('wasm')
    const lines = messages.filter((m) => m.startsWith('backend wasm'))
    expect(lines).to.have.length(1)
    expect(lines[0]).to.contain('libopenblas-dev')
  })

  it('runtime.backend native without the addon is a clear error', async () => {
    process.env['RTD_NATIVE_ADDON'] = '/nonexistent/rtd_native.node'
    const err = await initBackend({backend: 'native'}).then(() => undefined, (e: unknown) => e)
    expect((err as {code?: string}).code).to.equal('runtime.native_unavailable')
    expect((err as Error).message).to.contain('/nonexistent/rtd_native.node')
  })
})
