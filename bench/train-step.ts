/**
 * Times the model's real GDES loss + backward (generator forward, MLM loss, sampling,
 * discriminator forward, RTD loss, gradients of every variable; no optimizer update) on wasm with
 * native kernels off and on, interleaved, and reports the peak tensor bytes next to
 * estimateTrainingMemory's activations. Until `rtd bench` exists (issue 6), this is the check
 * that the runtime kernels pay off on a whole step.
 *
 *   npx tsx bench/train-step.ts [--steps 3] [--config bench-small|tiny|xsmall-b1] [--native both|on|off]
 */
import * as tf from '@tensorflow/tfjs'
import {v3Config} from '../src/model/config.js'
import {RtdPair} from '../src/model/rtd-pair.js'
import {initBackend} from '../src/runtime/backend.js'
import {estimateTrainingMemory} from '../src/runtime/memory-estimate.js'
import {Rng} from '../src/util/rng.js'

const CONFIGS = {
  'bench-small': {vocab: 8000, hidden: 256, heads: 4, inter: 1024, dLayers: 4, gLayers: 2, batch: 8, seqLen: 128},
  tiny: {vocab: 1000, hidden: 64, heads: 2, inter: 128, dLayers: 2, gLayers: 1, batch: 4, seqLen: 64},
  // deberta-v3-xsmall shapes at batch 1: the memory check for the smallest real model on wasm.
  'xsmall-b1': {vocab: 128100, hidden: 384, heads: 6, inter: 1536, dLayers: 12, gLayers: 6, batch: 1, seqLen: 128},
} as const

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : fallback
}

let peakBytes = 0
function trackPeak(): void {
  const engine = tf.engine() as unknown as {trackTensor(a: unknown, b: unknown): void; state: {numBytes: number}}
  const original = engine.trackTensor.bind(engine)
  engine.trackTensor = (a, b) => {
    original(a, b)
    peakBytes = Math.max(peakBytes, engine.state.numBytes)
  }
}

async function main(): Promise<void> {
  const name = arg('config', 'bench-small') as keyof typeof CONFIGS
  const c = CONFIGS[name]
  const steps = Number(arg('steps', '3'))
  const variants = arg('native', 'both') === 'both' ? (['off', 'on'] as const) : ([arg('native', 'both')] as ['off' | 'on'])
  await initBackend({backend: 'wasm', native: 'off'})
  trackPeak()
  const shape = {vocabSize: c.vocab, hiddenSize: c.hidden, numAttentionHeads: c.heads, intermediateSize: c.inter, maxPositionEmbeddings: 512}
  const pair = new RtdPair({discriminator: v3Config({...shape, numHiddenLayers: c.dLayers}), generator: v3Config({...shape, numHiddenLayers: c.gLayers}), sharing: 'gdes', seed: 1, maskTokenId: 4})
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
      peakBytes = before
      const t0 = performance.now()
      const {value, grads} = tf.variableGrads(() => pair.lossFn({inputIds, attentionMask, mlmMask, batch: c.batch, seqLen: c.seqLen, lambda: 50, sampleRng: Rng.derive('samples', step), training: false}).loss, pair.variables())
      const loss = value.dataSync()[0]!
      const ms = performance.now() - t0
      tf.dispose([value, ...Object.values(grads)])
      if (step > 0) {
        results[native]!.push(ms)
        losses[native]!.push(loss)
      }
      if (step === steps) {
        const est = estimateTrainingMemory({discriminator: {vocab: c.vocab, hidden: c.hidden, layers: c.dLayers, heads: c.heads, intermediate: c.inter},
          generator: {vocab: c.vocab, hidden: c.hidden, layers: c.gLayers, heads: c.heads, intermediate: c.inter}, batch: c.batch, seqLen: c.seqLen, sharing: 'gdes', optimizer: 'adamw'})
        console.log(JSON.stringify({config: name, native, peakStepBytes: peakBytes - before, weightBytes,
          estimatedActivationsPlusGradients: est.bytes.activations + est.bytes.gradients}))
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!
  for (const native of variants) {
    console.log(JSON.stringify({config: name, native, msPerStep: Number(median(results[native]!).toFixed(1)), losses: losses[native]!.map((l) => Number(l.toFixed(6)))}))
  }
  pair.dispose()
}

await main()
