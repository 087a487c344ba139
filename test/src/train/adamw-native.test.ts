import {expect} from 'chai'
import * as tf from '#tfjs'
import {initBackend} from '../../../src/runtime/backend.js'
import {loadNativeKernels, type NativeKernels} from '../../../src/runtime/native/load-native.js'
import {nativeUpdateKernels, setNativeUpdateKernels} from '../../../src/runtime/native/native-update.js'
import {AdamW} from '../../../src/train/adamw.js'
import {clipByGlobalNorm, globalNorm} from '../../../src/train/clip.js'

/** A variable that owns its buffer (the initial tensor disposed), so AdamW may write it in place. */
function owned(t: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(t, true, name)
  t.dispose()
  return v
}

function closeRel(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-6): void {
  expect(actual.length).to.equal(expected.length)
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i], `index ${i}`).to.be.closeTo(expected[i]!, rel * Math.max(Math.abs(expected[i]!), 1e-12))
  }
}

/** The addon's kernels with a call counter on the update loops, to prove the native path ran. */
function counted(kernels: NativeKernels, calls: Record<string, number>): NativeKernels {
  const wrap = <K extends 'adamw' | 'sumsq' | 'scale'>(k: K) => ((...args: unknown[]) => {
    calls[k] = (calls[k] ?? 0) + 1
    return (kernels[k] as (...a: unknown[]) => unknown)(...args)
  }) as NativeKernels[K]
  return {...kernels, adamw: wrap('adamw'), sumsq: wrap('sumsq'), scale: wrap('scale')}
}

describe('AdamW and clipping with the native update loops (wasm heap)', function () {
  let kernels: NativeKernels

  before(async function () {
    const loaded = loadNativeKernels()
    if (!loaded.ok) {
      console.log(`    (skipped: native addon unavailable: ${loaded.why})`)
      this.skip()
    }
    if (typeof loaded.kernels.adamw !== 'function') {
      console.log('    (skipped: the native addon predates adamw; rebuild with `node native/build.mjs`)')
      this.skip()
    }
    kernels = loaded.kernels
    const info = await initBackend({backend: 'wasm', native: 'on'})
    expect(info.kernels).to.include('native:AdamW')
    expect(nativeUpdateKernels()).to.not.equal(undefined)
  })

  afterEach(() => {
    setNativeUpdateKernels(kernels)
  })

  after(async () => {
    await initBackend({backend: 'wasm', native: 'off'})
    expect(nativeUpdateKernels()).to.equal(undefined)
  })

  /** Runs 4 steps (the bias gets no gradient in step 2) and returns p, m, v and the step counts. */
  function train(calls: Record<string, number> | undefined): {p: Float32Array[]; m: Float32Array[]; v: Float32Array[]; steps: Record<string, number>} {
    setNativeUpdateKernels(calls ? counted(kernels, calls) : undefined)
    const n = 1031
    const w = owned(tf.tensor2d(Float32Array.from({length: n * 3}, (_, i) => Math.sin(i) * 0.4), [n, 3]), `native-adamw-w-${calls ? 'c' : 'js'}`)
    const b = owned(tf.tensor1d(Float32Array.from({length: 3}, (_, i) => i - 1)), `native-adamw-b-${calls ? 'c' : 'js'}`)
    const opt = new AdamW({variables: new Map([['w.weight', w], ['w.bias', b]]), weightDecay: 0.05})
    const before = tf.memory().numTensors
    for (let k = 0; k < 4; k++) {
      const gw = tf.tensor2d(Float32Array.from({length: n * 3}, (_, i) => Math.cos(i * (k + 1)) * 10 ** (-1 - (i % 5))), [n, 3])
      const gb = tf.tensor1d([0.3, -0.2 * k, 1e-7])
      const grads = new Map<string, tf.Tensor>([['w.weight', gw]])
      if (k !== 2) grads.set('w.bias', gb)
      opt.step(grads, 1e-3 * (k + 1))
      tf.dispose([gw, gb])
    }
    expect(tf.memory().numTensors).to.equal(before)
    const st = opt.exportState()
    const out = {
      p: [w, b].map((x) => Float32Array.from(x.dataSync())),
      m: ['w.weight', 'w.bias'].map((k) => Float32Array.from(st.m.get(k)!.data)),
      v: ['w.weight', 'w.bias'].map((k) => Float32Array.from(st.v.get(k)!.data)),
      steps: st.steps,
    }
    opt.dispose()
    tf.dispose([w, b])
    return out
  }

  it('matches the JS in-place loop over several steps (decay, no-decay name, a skipped step), without leaks', () => {
    const calls: Record<string, number> = {}
    const nat = train(calls)
    const js = train(undefined)
    expect(calls['adamw']).to.equal(7) // 4 weight updates + 3 bias updates: the C loop ran every time
    expect(nat.steps).to.deep.equal({'w.weight': 4, 'w.bias': 3})
    expect(nat.steps).to.deep.equal(js.steps)
    for (const i of [0, 1]) {
      closeRel(nat.p[i]!, js.p[i]!)
      closeRel(nat.m[i]!, js.m[i]!)
      closeRel(nat.v[i]!, js.v[i]!)
    }
  })

  it('matches torch AdamW computed in float64 (the hand-value check of adamw.test.ts, on the C loop)', () => {
    const calls: Record<string, number> = {}
    setNativeUpdateKernels(counted(kernels, calls))
    const p0 = [0.5, -1.25, 2, 0.001]
    const gs = [[0.1, -0.2, 0.3, 0.0], [-0.05, 0.4, 0.01, 1e-4], [0.2, 0.2, -0.3, -1e-3]]
    const lrs = [0.01, 0.02, 0.005]
    const [b1, b2, eps, wd] = [0.9, 0.999, 1e-6, 0.1]
    const w = owned(tf.tensor1d(p0), 'native-adamw-hand')
    const opt = new AdamW({variables: new Map([['w', w]]), beta1: b1, beta2: b2, eps, weightDecay: wd})
    const p = [...p0]
    const m = p.map(() => 0)
    const v = p.map(() => 0)
    gs.forEach((g, k) => {
      const gt = tf.tensor1d(g)
      opt.step(new Map([['w', gt]]), lrs[k]!)
      gt.dispose()
      const t = k + 1
      for (let i = 0; i < p.length; i++) {
        p[i]! *= 1 - lrs[k]! * wd
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!
        p[i]! -= (lrs[k]! * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps)
      }
    })
    expect(calls['adamw']).to.equal(3)
    const got = w.dataSync()
    for (let i = 0; i < p.length; i++) expect(got[i]).to.be.closeTo(p[i]!, 1e-6 * Math.max(1, Math.abs(p[i]!)))
    opt.dispose()
    w.dispose()
  })

  it('falls back to the JS loop when the addon lacks the update functions (a stale build)', () => {
    const {adamw: _a, ...stale} = kernels
    expect(setNativeUpdateKernels(stale)).to.equal(false)
    expect(nativeUpdateKernels()).to.equal(undefined)
    const w = owned(tf.tensor1d([1, 2, 3]), 'native-adamw-stale')
    const opt = new AdamW({variables: new Map([['w', w]]), weightDecay: 0})
    const g = tf.tensor1d([1, -1, 0])
    opt.step(new Map([['w', g]]), 0.1)
    // first step: p - lr * g/(|g| + eps·…) ≈ p - 0.1·sign(g)
    closeRel(w.dataSync(), [0.9, 2.1, 3], 1e-5)
    tf.dispose([w, g])
    opt.dispose()
  })

  it('globalNorm and in-place clipping use the native loops and agree with the tfjs ops', async () => {
    const data = [Float32Array.from({length: 5000}, (_, i) => Math.sin(i) * 3), Float32Array.from({length: 77}, (_, i) => i / 10)]
    const calls: Record<string, number> = {}
    setNativeUpdateKernels(counted(kernels, calls))
    const a = data.map((d) => tf.tensor1d(d))
    const b = data.map((d) => tf.tensor1d(d))
    const nativeNorm = await globalNorm(a)
    expect(calls['sumsq']).to.equal(2)
    const want = Math.sqrt(tf.tidy(() => tf.addN(a.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!)
    expect(nativeNorm).to.be.closeTo(want, 1e-6 * want)
    const clipped = await clipByGlobalNorm({grads: new Map(a.map((g, i) => [`g${i}`, g])), maxNorm: 1})
    expect(calls['scale']).to.equal(2)
    setNativeUpdateKernels(undefined)
    const ref = await clipByGlobalNorm({grads: new Map(b.map((g, i) => [`g${i}`, g])), maxNorm: 1})
    expect(clipped.norm).to.be.closeTo(ref.norm, 1e-6 * ref.norm)
    for (const k of ['g0', 'g1']) closeRel(clipped.grads.get(k)!.dataSync(), ref.grads.get(k)!.dataSync())
    tf.dispose([...a, ...b])
  })
})
