/**
 * Matmul throughput on the wasm backend for the products of a transformer training step:
 * stock tfjs 4.22 kernels vs the XNNPACK route vs the native OpenBLAS sgemm (1 and 2 threads).
 * Variants are interleaved per shape. Not a test: prints one JSON line per shape and variant.
 *
 *   npx tsx bench/matmul.ts [--reps 10]
 */
import * as tf from '#tfjs'
import {initBackend} from '../src/runtime/backend.js'
import {restoreKernel} from '../src/runtime/kernels/register-kernel.js'
import {registerWasmBatchMatMul} from '../src/runtime/kernels/wasm-batch-mat-mul.js'
import {loadNativeKernels} from '../src/runtime/native/load-native.js'

interface Shape {
  name: string
  a: number[]
  b: number[]
  transposeA: boolean
  transposeB: boolean
}

// bench-small: batch 8 x seq 128 = 1024 tokens, hidden 256, FFN 1024, 4 heads of 64, vocab 8000.
const SHAPES: Shape[] = [
  {name: 'ffn forward [1024,256]x[256,1024]', a: [1024, 256], b: [256, 1024], transposeA: false, transposeB: false},
  {name: 'ffn dX [1024,1024]x[256,1024]^T', a: [1024, 1024], b: [256, 1024], transposeA: false, transposeB: true},
  {name: 'ffn dW [1024,256]^T x[1024,1024]', a: [1024, 256], b: [1024, 1024], transposeA: true, transposeB: false},
  {name: 'attn scores [32,128,64]x[32,128,64]^T', a: [32, 128, 64], b: [32, 128, 64], transposeA: false, transposeB: true},
  {name: 'attn context [32,128,128]x[32,128,64]', a: [32, 128, 128], b: [32, 128, 64], transposeA: false, transposeB: false},
  {name: 'attn dV [32,128,128]^T x[32,128,64]', a: [32, 128, 128], b: [32, 128, 64], transposeA: true, transposeB: false},
  {name: 'mlm logits [1024,256]x[8000,256]^T', a: [1024, 256], b: [8000, 256], transposeA: false, transposeB: true},
]

const VARIANTS = ['stock', 'xnnpack-route', 'native-1t', 'native-2t'] as const
type Variant = (typeof VARIANTS)[number]

async function useVariant(v: Variant): Promise<void> {
  if (v === 'native-1t' || v === 'native-2t') {
    await initBackend({backend: 'wasm', native: 'on', threads: v === 'native-1t' ? 1 : 2})
    return
  }
  // initBackend is idempotent, so set the kernel explicitly after it.
  await initBackend({backend: 'wasm', native: 'off'})
  if (v === 'stock') restoreKernel(tf.BatchMatMul, 'wasm')
  else registerWasmBatchMatMul()
}

function flops(s: Shape): number {
  const m = s.transposeA ? s.a.at(-1)! : s.a.at(-2)!
  const k = s.transposeA ? s.a.at(-2)! : s.a.at(-1)!
  const n = s.transposeB ? s.b.at(-2)! : s.b.at(-1)!
  const batch = s.a.slice(0, -2).reduce((x, y) => x * y, 1)
  return 2 * batch * m * k * n
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)]!
}

async function main(): Promise<void> {
  const repsArg = process.argv.indexOf('--reps')
  const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 10
  const native = loadNativeKernels()
  const variants = VARIANTS.filter((v) => native.ok || !v.startsWith('native'))
  if (!native.ok) console.error(`native variants skipped: ${native.why}`)
  await initBackend({backend: 'wasm', native: 'off'})
  for (const shape of SHAPES) {
    const a = tf.randomNormal(shape.a)
    const b = tf.randomNormal(shape.b)
    for (const variant of variants) {
      await useVariant(variant)
      // Stock kernels crawl on transposed products: fewer reps there.
      const n = variant === 'stock' && (shape.transposeA || shape.transposeB || shape.a.length > 2) ? Math.min(reps, 3) : reps
      const times: number[] = []
      for (let i = 0; i <= n; i++) {
        const t0 = performance.now()
        const c = tf.matMul(a, b, shape.transposeA, shape.transposeB)
        c.dataSync()
        const dt = performance.now() - t0
        c.dispose()
        if (i > 0) times.push(dt) // first run warms up
      }
      const ms = median(times)
      console.log(JSON.stringify({shape: shape.name, variant, ms: Number(ms.toFixed(2)), gflops: Number((flops(shape) / ms / 1e6).toFixed(2))}))
    }
    tf.dispose([a, b])
  }
}

await main()
