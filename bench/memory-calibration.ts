/**
 * Measures the peak tensor bytes of one training step of a DeBERTa-like layer stack on wasm
 * (tfjs's byte count sampled at every new tensor) and the wasm heap size after it (the heap never
 * shrinks: peak plus fragmentation; one child process per depth), and compares the per-layer
 * growth with estimateTrainingMemory's activation model. A proxy of the real model (src/model is written separately): disentangled attention
 * with c2c + c2p + p2c over a 2S relative table, erf GELU FFN, LayerNorms, residuals.
 *
 *   npx tsx bench/memory-calibration.ts
 */
import * as tf from '#tfjs'
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {initBackend} from '../src/runtime/backend.js'
import {estimateTrainingMemory} from '../src/runtime/memory-estimate.js'

interface Dims {b: number; n: number; h: number; heads: number; inter: number; layers: number; buckets: number}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true)
  const centered = tf.sub(x, mean)
  const variance = tf.mean(tf.square(centered), -1, true)
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, 1e-7))), g), b)
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))
}

function makeVars(d: Dims) {
  const v = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02))
  return Array.from({length: d.layers}, () => ({
    q: v([d.h, d.h]), k: v([d.h, d.h]), val: v([d.h, d.h]), o: v([d.h, d.h]),
    w1: v([d.h, d.inter]), w2: v([d.inter, d.h]), g1: v([d.h]), b1: v([d.h]), g2: v([d.h]), b2: v([d.h]),
    rel: v([2 * d.buckets, d.h]),
  }))
}

function forward(x0: tf.Tensor2D, vars: ReturnType<typeof makeVars>, d: Dims, relIdx: tf.Tensor1D): tf.Scalar {
  const {b, n, h, heads} = d
  const hd = h / heads
  let x: tf.Tensor = x0 // [B*N, H]
  for (const p of vars) {
    const heads4 = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [b, n, heads, hd]), [0, 2, 1, 3]), [b * heads, n, hd])
    const q = heads4(tf.matMul(x, p.q))
    const k = heads4(tf.matMul(x, p.k))
    const v = heads4(tf.matMul(x, p.val))
    const posK = tf.reshape(tf.transpose(tf.reshape(tf.matMul(p.rel, p.k), [2 * d.buckets, heads, hd]), [1, 0, 2]), [heads, 2 * d.buckets, hd])
    const c2c = tf.matMul(q, k, false, true) // [B*nh, N, N]
    const c2pFull = tf.matMul(tf.reshape(q, [b, heads, n, hd]), tf.reshape(posK, [1, heads, 2 * d.buckets, hd]), false, true) // [B, nh, N, 2S]
    const c2p = tf.reshape(tf.gather(tf.reshape(c2pFull, [-1]), relIdx), [b * heads, n, n])
    const p2cFull = tf.matMul(tf.reshape(k, [b, heads, n, hd]), tf.reshape(posK, [1, heads, 2 * d.buckets, hd]), false, true)
    const p2c = tf.reshape(tf.gather(tf.reshape(p2cFull, [-1]), relIdx), [b * heads, n, n])
    const scores = tf.softmax(tf.mul(tf.add(tf.add(c2c, c2p), p2c), 1 / Math.sqrt(3 * hd)))
    const ctx = tf.reshape(tf.transpose(tf.reshape(tf.matMul(scores, v), [b, heads, n, hd]), [0, 2, 1, 3]), [b * n, h])
    const a = layerNorm(tf.add(tf.matMul(ctx, p.o), x), p.g1, p.b1)
    x = layerNorm(tf.add(tf.matMul(gelu(tf.matMul(a, p.w1)), p.w2), a), p.g2, p.b2)
  }
  return tf.mean(tf.square(x))
}

function relIndex(d: Dims): tf.Tensor1D {
  // Flat indices into [B*nh, N, 2S] picking bucket (i - j + S) clamped: the gather DeBERTa does.
  const {b, n, heads, buckets} = d
  const idx = new Int32Array(b * heads * n * n)
  for (let bh = 0; bh < b * heads; bh++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) idx[(bh * n + i) * n + j] = (bh * n + i) * 2 * buckets + Math.min(2 * buckets - 1, Math.max(0, i - j + buckets))
    }
  }
  return tf.tensor1d(idx, 'int32')
}

let peakBytes = 0
function trackPeak(): void {
  // Sample the engine's byte count each time a tensor is registered (every kernel output).
  const engine = tf.engine() as unknown as {trackTensor(a: unknown, b: unknown): void; state: {numBytes: number}}
  const original = engine.trackTensor.bind(engine)
  engine.trackTensor = (a, b) => {
    original(a, b)
    peakBytes = Math.max(peakBytes, engine.state.numBytes)
  }
}

function measure(d: Dims): {peak: number; heap: number} {
  trackPeak()
  const vars = makeVars(d)
  const x = tf.randomNormal([d.b * d.n, d.h]) as tf.Tensor2D
  const idx = relIndex(d)
  const list = vars.flatMap((p) => Object.values(p))
  for (let step = 0; step < 2; step++) {
    const {grads} = tf.variableGrads(() => forward(x, vars, d, idx), list)
    tf.dispose(Object.values(grads))
  }
  const heap = (tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}}).wasm.HEAPU8.length
  tf.dispose([x, idx, ...list])
  return {peak: peakBytes, heap}
}

// Override with RTD_CALIBRATION_DIMS='{"b":4,"n":64}' to separate the per-token and per-score terms.
const BASE: Dims = {b: 2, n: 128, h: 384, heads: 6, inter: 1536, layers: 1, buckets: 256, ...JSON.parse(process.env['RTD_CALIBRATION_DIMS'] ?? '{}')}

async function main(): Promise<void> {
  const layersArg = process.argv.indexOf('--layers')
  if (layersArg > 0) {
    await initBackend({backend: 'wasm', native: 'auto'})
    console.log(JSON.stringify(measure({...BASE, layers: Number(process.argv[layersArg + 1])})))
    return
  }
  const run = (layers: number) => JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--layers', String(layers)], {encoding: 'utf8'}).trim().split('\n').at(-1)!) as {peak: number; heap: number}
  const [l1, l3] = [run(1), run(3)]
  const perLayer = (l3.peak - l1.peak) / 2
  const {b, n, h, heads, inter, buckets} = BASE
  const shape = {vocab: 1, hidden: h, layers: 1, heads, intermediate: inter, positionBuckets: buckets}
  // The estimator's activations for one layer: the difference between 2 and 1 discriminator layers.
  const est = (layers: number) => estimateTrainingMemory({discriminator: {...shape, layers}, generator: {...shape, layers: 1}, batch: b, seqLen: n, sharing: 'nes', optimizer: 'adamw', mlmLogits: 'all', recompute: false})
  const [e1, e2] = [est(1), est(2)]
  const perLayerParams = (e2.params.trainable - e1.params.trainable)
  // The estimator's counts are now scaled to the real model (bench/train-step.ts); compare the shapes of growth.
  const modelPerLayer = e2.bytes.activations - e1.bytes.activations + 2 * 4 * perLayerParams // + weights and gradients
  console.log(JSON.stringify({dims: BASE, layers1: l1, layers3: l3, heapPerLayer: (l3.heap - l1.heap) / 2,
    measuredPeakPerLayer: perLayer, estimatedPerLayer: modelPerLayer, ratio: Number((perLayer / modelPerLayer).toFixed(2))}))
}

await main()
