/**
 * Times the model's real GDES training step (generator forward, MLM loss, sampling,
 * discriminator forward, RTD loss, gradients of every variable; with --optimizer adamw also
 * global-norm clipping at 1.0 and the AdamW update) on wasm with native kernels off and/or on,
 * interleaved, and reports the peak tensor bytes (tfjs's byte count sampled at every new tensor),
 * the wasm heap size (it never shrinks: the step's true high-water mark including fragmentation)
 * next to estimateTrainingMemory, and with --top N the N largest groups of tensors alive
 * at the peak (by shape).
 *
 *   npx tsx bench/train-step.ts [--steps 3] [--config bench-small|tiny|xsmall-b1|xsmall-b2|xsmall-b8]
 *     [--native both|on|off] [--optimizer none|adamw] [--clip-copy] [--recompute auto|on|off] [--top 0]
 */
import * as tf from '#tfjs'
import {v3Config} from '../src/model/config.js'
import {RtdPair} from '../src/model/rtd-pair.js'
import {initBackend} from '../src/runtime/backend.js'
import {estimateTrainingMemory} from '../src/runtime/memory-estimate.js'
import {AdamW} from '../src/train/adamw.js'
import {clipByGlobalNorm} from '../src/train/clip.js'
import {Rng} from '../src/util/rng.js'
import {architecture as debertaV3} from '../plugins/deberta-v3/deberta-v3-networks.js'

const CONFIGS = {
  'bench-small': {vocab: 8000, hidden: 256, heads: 4, inter: 1024, dLayers: 4, gLayers: 2, batch: 8, seqLen: 128},
  tiny: {vocab: 1000, hidden: 64, heads: 2, inter: 128, dLayers: 2, gLayers: 1, batch: 4, seqLen: 64},
  // deberta-v3-xsmall shapes: the memory check for the smallest real model on wasm.
  'xsmall-b1': {vocab: 128100, hidden: 384, heads: 6, inter: 1536, dLayers: 12, gLayers: 6, batch: 1, seqLen: 128},
  'xsmall-b2': {vocab: 128100, hidden: 384, heads: 6, inter: 1536, dLayers: 12, gLayers: 6, batch: 2, seqLen: 128},
  'xsmall-b8': {vocab: 128100, hidden: 384, heads: 6, inter: 1536, dLayers: 12, gLayers: 6, batch: 8, seqLen: 128},
} as const

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : fallback
}

interface Live {shape: number[]; bytes: number; ids: number}
/** Live data buffers by wasm heap offset (clones and reshapes share one): the memory really held. */
const live = new Map<number, Live>()
const seen = new WeakSet<object>()
let trueBytes = 0
let peakTrue = 0
let peakBytes = 0
let phase = 'forward+backward'
let peakPhase = ''
let phasePeaks: Record<string, number> = {}
let topN = 0
let peakTop: string[] = []
let lastSnapshot = 0

function snapshot(): string[] {
  const groups = new Map<string, {n: number; bytes: number}>()
  for (const t of live.values()) {
    const k = JSON.stringify(t.shape)
    const g = groups.get(k) ?? {n: 0, bytes: 0}
    g.n++
    g.bytes += t.bytes
    groups.set(k, g)
  }
  return [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, topN).map(([k, g]) => `${g.n} x ${k} = ${(g.bytes / 2 ** 20).toFixed(0)} MiB`)
}

/**
 * Samples tfjs's byte count (which counts every tensor, aliases included) at every new tensor,
 * and the bytes of distinct wasm heap buffers alive (what the heap must hold), with their
 * shapes at the peak for --top.
 */
function trackPeak(): void {
  type Info = {dataId: object; shape: number[]; dtype: string; size: number}
  const engine = tf.engine() as unknown as {trackTensor(a: Info, b: unknown): void; disposeTensor(a: Info): void; state: {numBytes: number}}
  // DataStorage.get moves data in from another backend when the id is not there: ask has() first
  const dataIdMap = () => {
    const m = (tf.backend() as unknown as {dataIdMap?: {has(d: object): boolean; get(d: object): {memoryOffset: number | null}}}).dataIdMap
    return {get: (d: object) => (m !== undefined && m.has(d) ? m.get(d) : undefined)}
  }
  const track = engine.trackTensor.bind(engine)
  const dispose = engine.disposeTensor.bind(engine)
  engine.trackTensor = (a, b) => {
    track(a, b)
    const offset = dataIdMap().get(a.dataId)?.memoryOffset
    if (!seen.has(a.dataId) && offset != null) {
      seen.add(a.dataId)
      const e = live.get(offset)
      if (e) e.ids++
      else {
        const bytes = a.size * (a.dtype === 'int32' || a.dtype === 'float32' ? 4 : 1)
        live.set(offset, {shape: [...a.shape], bytes, ids: 1})
        trueBytes += bytes
      }
    }
    peakBytes = Math.max(peakBytes, engine.state.numBytes)
    phasePeaks[phase] = Math.max(phasePeaks[phase] ?? 0, trueBytes)
    if (trueBytes > peakTrue) {
      peakTrue = trueBytes
      peakPhase = phase
      if (topN > 0 && peakTrue > lastSnapshot + 16 * 2 ** 20) {
        lastSnapshot = peakTrue
        peakTop = snapshot()
      }
    }
  }
  engine.disposeTensor = (a) => {
    const offset = dataIdMap().get(a.dataId)?.memoryOffset
    dispose(a)
    if (seen.has(a.dataId) && dataIdMap().get(a.dataId) === undefined && offset != null) {
      seen.delete(a.dataId)
      const e = live.get(offset)!
      if (--e.ids === 0) {
        live.delete(offset)
        trueBytes -= e.bytes
      }
    }
  }
}

function heapBytes(): number {
  const b = tf.backend() as unknown as {wasm?: {HEAPU8: Uint8Array}}
  return b.wasm?.HEAPU8.length ?? 0
}

async function main(): Promise<void> {
  const name = arg('config', 'bench-small') as keyof typeof CONFIGS
  const c = CONFIGS[name]
  if (c === undefined) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}`)
  const steps = Number(arg('steps', '3'))
  topN = Number(arg('top', '0'))
  const optimizer = arg('optimizer', 'none')
  const clipInPlace = !process.argv.includes('--clip-copy')
  const recomputeArg = arg('recompute', 'auto')
  const recompute = recomputeArg === 'auto' ? undefined : recomputeArg === 'on'
  const variants = arg('native', 'both') === 'both' ? (['off', 'on'] as const) : ([arg('native', 'both')] as ['off' | 'on'])
  await initBackend({backend: 'wasm', native: 'off'})
  trackPeak()
  const shape = {vocabSize: c.vocab, hiddenSize: c.hidden, numAttentionHeads: c.heads, intermediateSize: c.inter, maxPositionEmbeddings: 512}
  const pair = new RtdPair({architecture: debertaV3, discriminator: v3Config({...shape, numHiddenLayers: c.dLayers}), generator: v3Config({...shape, numHiddenLayers: c.gLayers}), sharing: 'gdes', seed: 1, maskTokenId: 4, recompute})
  const vars = new Map(pair.variables().map((v) => [v.name, v]))
  const adam = optimizer === 'adamw' ? new AdamW({variables: vars}) : undefined
  const rng = Rng.derive('bench', 'train-step')
  const n = c.batch * c.seqLen
  const inputIds = Int32Array.from({length: n}, (_, i) => (i % c.seqLen === 0 ? 1 : 5 + Math.floor(rng.uniform() * (c.vocab - 5))))
  const mlmMask = Int32Array.from({length: n}, (_, i) => (i % c.seqLen !== 0 && rng.uniform() < 0.15 ? 1 : 0))
  const attentionMask = new Int32Array(n).fill(1)
  const weightBytes = pair.variables().reduce((s, v) => s + 4 * v.size, 0)
  const results: Record<string, number[]> = {off: [], on: []}
  const losses: Record<string, number[]> = {off: [], on: []}
  for (let step = 0; step <= steps; step++) {
    for (const native of variants) {
      await initBackend({backend: 'wasm', native})
      const before = tf.memory().numBytes
      const trueBefore = trueBytes
      peakBytes = before
      peakTrue = trueBytes
      lastSnapshot = 0
      phase = 'forward+backward'
      phasePeaks = {}
      const t0 = performance.now()
      const {value, grads} = tf.variableGrads(() => pair.lossFn({inputIds, attentionMask, mlmMask, batch: c.batch, seqLen: c.seqLen, lambda: 50, sampleRng: Rng.derive('samples', step), training: false}).loss, pair.variables())
      const loss = value.dataSync()[0]!
      value.dispose()
      const afterBackward = peakBytes
      if (adam) {
        phase = 'clip'
        const g = new Map(Object.entries(grads))
        const clipped = await clipByGlobalNorm({grads: g, maxNorm: 1, inPlace: clipInPlace})
        phase = 'adamw'
        adam.step(clipped.grads, 1e-4)
        // as trainer.ts: inputs and results disposed after the update (in place they are the same tensors)
        tf.dispose([...Object.values(grads), ...clipped.grads.values()])
      } else {
        tf.dispose(Object.values(grads))
      }
      const ms = performance.now() - t0
      if (step > 0) {
        results[native]!.push(ms)
        losses[native]!.push(loss)
      }
      console.error(JSON.stringify({step, native, ms: Math.round(ms), loss, peakStepMiB: Math.round((peakBytes - before) / 2 ** 20), peakBackwardMiB: Math.round((afterBackward - before) / 2 ** 20),
        peakBuffersMiB: Math.round(peakTrue / 2 ** 20), heldBeforeMiB: Math.round(trueBefore / 2 ** 20), peakPhase,
        phasePeaksMiB: Object.fromEntries(Object.entries(phasePeaks).map(([k, v]) => [k, Math.round(v / 2 ** 20)])), heapMiB: Math.round(heapBytes() / 2 ** 20), tensors: tf.memory().numTensors}))
      if (step === steps) {
        const est = estimateTrainingMemory({discriminator: {vocab: c.vocab, hidden: c.hidden, layers: c.dLayers, heads: c.heads, intermediate: c.inter},
          generator: {vocab: c.vocab, hidden: c.hidden, layers: c.gLayers, heads: c.heads, intermediate: c.inter}, batch: c.batch, seqLen: c.seqLen, sharing: 'gdes', optimizer: 'adamw'})
        console.log(JSON.stringify({config: name, native, optimizer, recompute: recomputeArg, clipInPlace, peakBufferBytes: peakTrue, peakPhase, peakStepBytes: peakBytes - before, peakTotalBytes: peakBytes, heapBytes: heapBytes(), weightBytes,
          estimatedActivationsPlusGradients: est.bytes.activations + est.bytes.gradients, estimatedTotal: est.bytes.total}))
        if (topN > 0) console.log(JSON.stringify({config: name, native, liveAtPeak: peakTop}))
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!
  for (const native of variants) {
    console.log(JSON.stringify({config: name, native, msPerStep: Number(median(results[native]!).toFixed(1)), losses: losses[native]!.map((l) => Number(l.toFixed(6)))}))
  }
  adam?.dispose()
  pair.dispose()
}

await main()
