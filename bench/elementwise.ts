/**
 * Native vs stock wasm timings for the non-matmul kernels the native addon replaces: the rank-4
 * attention-head transpose, exp over [tokens, vocab] logits, and the leading-axis (bias-gradient)
 * sum. Interleaved; prints one JSON line per kernel and variant.
 *
 *   npx tsx bench/elementwise.ts [--reps 5]
 */
import * as tf from '#tfjs'
import {initBackend} from '../src/runtime/backend.js'

const CASES: Array<{name: string; shape: number[]; run: (x: tf.Tensor) => tf.Tensor}> = [
  {name: 'transpose [8,128,4,64] -> [0,2,1,3]', shape: [8, 128, 4, 64], run: (x) => tf.transpose(x, [0, 2, 1, 3])},
  {name: 'transpose [8,4,128,64] -> [0,2,3,1]', shape: [8, 4, 128, 64], run: (x) => tf.transpose(x, [0, 2, 3, 1])},
  {name: 'exp [1024,8000]', shape: [1024, 8000], run: (x) => tf.exp(x)},
  {name: 'sum axis 0 [1024,1024]', shape: [1024, 1024], run: (x) => tf.sum(x, 0)},
]

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q)
  return s[Math.floor(s.length / 2)]!
}

async function main(): Promise<void> {
  const repsArg = process.argv.indexOf('--reps')
  const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5
  await initBackend({backend: 'wasm', native: 'off'})
  for (const c of CASES) {
    const x = tf.randomNormal(c.shape)
    for (const native of ['off', 'on'] as const) {
      await initBackend({backend: 'wasm', native})
      const times: number[] = []
      for (let i = 0; i <= reps; i++) {
        const t0 = performance.now()
        const y = c.run(x) // wasm kernels run synchronously: no read-back needed
        if (i > 0) times.push(performance.now() - t0)
        y.dispose()
      }
      console.log(JSON.stringify({kernel: c.name, native, ms: Number(median(times).toFixed(2))}))
    }
    x.dispose()
  }
}

await main()
