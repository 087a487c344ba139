/**
 * BatchMatMul for the wasm backend that always reaches XNNPACK (SPEC A.11).
 *
 * Stock tfjs 4.22 wasm runs a product through XNNPACK (16-24 GFLOP/s) only when neither
 * operand is transposed and the batch is 1; everything else (all of backprop, all of attention)
 * falls to a scalar loop at 0.4-2 GFLOP/s. Here every case becomes untransposed batch-1 calls:
 * transposed operands are transposed explicitly, a broadcast right operand lets the batch fold
 * into M, and a real batch runs as one call per matrix on zero-copy views into the wasm heap.
 */
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {replaceKernel} from './register-kernel.js'
import {wasmForgetId, wasmFunction, wasmRegisterView, wasmTensorId} from '../tfjs-internals.js'

/** The C++ kernel behind the stock BatchMatMul (ids, not pointers). */
type WasmMatMulFn = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void
type WasmTransposeFn = (xId: number, xShape: Uint8Array, xRank: number, dtype: number, outId: number, perm: Uint8Array, permRank: number) => void


/**
 * Operands as row-major 3-D matrices: a [batchA, M, K] (stored [batchA, K, M] when transposeA),
 * b [batchB, K, N] (stored [batchB, N, K] when transposeB); output [batch, M, N].
 */
export interface MatMulPlan {
  transposeA: boolean
  transposeB: boolean
  batchA: number
  batchB: number
  m: number
  k: number
  n: number
  /** Broadcast batch shape of the output, without [M, N]. */
  outBatchShape: number[]
  /**
   * The output batch as runs of consecutive matrices: output matrices [start, start+count) use
   * a matrices aStart + i*aStep and b matrices bStart + i*bStep (steps 0 = broadcast, or 1).
   */
  runs: BatchRun[]
}

export interface BatchRun {
  start: number
  count: number
  aStart: number
  aStep: number
  bStart: number
  bStep: number
}

/** Index of the operand matrix (batch shape `shape`, right-aligned) used by output matrix i. */
function operandIndex(i: number, outBatch: number[], shape: number[]): number {
  let rest = i
  let idx = 0
  let stride = 1
  const offset = outBatch.length - shape.length
  for (let d = outBatch.length - 1; d >= offset; d--) {
    const coord = rest % outBatch[d]!
    rest = Math.floor(rest / outBatch[d]!)
    const size = shape[d - offset]!
    idx += (size === 1 ? 0 : coord) * stride
    stride *= size
  }
  return idx
}

/** Groups the broadcast batch into runs with constant steps (one run when batches match or one side is 1). */
export function batchRuns(aBatch: number[], bBatch: number[], outBatch: number[]): BatchRun[] {
  const batch = tf.util.sizeFromShape(outBatch)
  const runs: BatchRun[] = []
  let run: BatchRun | undefined
  for (let i = 0; i < batch; i++) {
    const ai = operandIndex(i, outBatch, aBatch)
    const bi = operandIndex(i, outBatch, bBatch)
    if (run !== undefined) {
      const aStep = ai - (run.aStart + (run.count - 1) * run.aStep)
      const bStep = bi - (run.bStart + (run.count - 1) * run.bStep)
      const fits = run.count === 1 ? (aStep === 0 || aStep === 1) && (bStep === 0 || bStep === 1) : aStep === run.aStep && bStep === run.bStep
      if (fits) {
        if (run.count === 1) {
          run.aStep = aStep
          run.bStep = bStep
        }
        run.count++
        continue
      }
    }
    run = {start: i, count: 1, aStart: ai, aStep: 0, bStart: bi, bStep: 0}
    runs.push(run)
  }
  return runs
}

export function planMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan {
  const ar = a.shape.length
  const br = b.shape.length
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!
  if (k !== kb) {
    throw new Error(`matMul: inner dimensions ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] ` +
      `(transposeA=${transposeA}, transposeB=${transposeB}) must match`)
  }
  const aBatch = a.shape.slice(0, -2)
  const bBatch = b.shape.slice(0, -2)
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch)
  const batchA = tf.util.sizeFromShape(aBatch)
  const batchB = tf.util.sizeFromShape(bBatch)
  return {transposeA, transposeB, batchA, batchB, m, k, n, outBatchShape, runs: batchRuns(aBatch, bBatch, outBatchShape)}
}

const setups = new WeakMap<BackendWasm, {matMul: WasmMatMulFn; transpose: WasmTransposeFn}>()

function setup(backend: BackendWasm) {
  let fns = setups.get(backend)
  if (fns === undefined) {
    fns = {
      matMul: wasmFunction<WasmMatMulFn>(backend, tf.BatchMatMul, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']),
      transpose: wasmFunction<WasmTransposeFn>(backend, tf.Transpose, ['number', 'array', 'number', 'number', 'number', 'array', 'number']),
    }
    setups.set(backend, fns)
  }
  return fns
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer)
}

const FLOAT32_CPP_DTYPE = 0 // CppDType.float32 in the wasm backend

/** [batch, r, c] -> new [batch, c, r] tensor on the heap (caller disposes). */
function transposeLast2(backend: BackendWasm, x: tf.TensorInfo, batch: number, r: number, c: number): tf.TensorInfo {
  const out = backend.makeOutput([batch, c, r], 'float32')
  const xId = wasmTensorId(backend, x.dataId)
  const outId = wasmTensorId(backend, out.dataId)
  const perm = batch === 1 ? [1, 0] : [0, 2, 1]
  const shape = batch === 1 ? [r, c] : [batch, r, c]
  setup(backend).transpose(xId, shapeBytes(shape), shape.length, FLOAT32_CPP_DTYPE, outId, shapeBytes(perm), perm.length)
  return out
}

/** Registers a tensor id that aliases heap memory owned by another tensor; undo with dropView. */
function makeView(backend: BackendWasm, offset: number, size: number): number {
  return wasmRegisterView(backend, offset, size)
}

function dropView(backend: BackendWasm, id: number): void {
  // Forget the id (and XNNPACK's cached operator for it) without freeing the aliased memory.
  wasmForgetId(backend, id)
}

/**
 * Computes out[i] = a[i or 0] x b[i or 0] for contiguous a [batchA, M, K], b [batchB, K, N]
 * into `out` [batch, M, N], always through XNNPACK's untransposed batch-1 path.
 */
function xnnMatMul(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, plan: MatMulPlan): void {
  const {batchA, batchB, m, k, n} = plan
  if (plan.transposeA || plan.transposeB) throw new Error('xnnMatMul: operands must be untransposed')
  const {matMul} = setup(backend)
  const aId = wasmTensorId(backend, a.dataId)
  const bId = wasmTensorId(backend, b.dataId)
  const outId = wasmTensorId(backend, out.dataId)
  if (batchB === 1) {
    // A shared right operand: fold A's batch into M, one [batchA*M, K] x [K, N] call.
    const rows = batchA * m
    matMul(aId, shapeBytes([1, rows, k]), 3, bId, shapeBytes([1, k, n]), 3, false, false, outId)
    return
  }
  const aOff = backend.getMemoryOffset(a.dataId)
  const bOff = backend.getMemoryOffset(b.dataId)
  const outOff = backend.getMemoryOffset(out.dataId)
  const aShape = shapeBytes([1, m, k])
  const bShape = shapeBytes([1, k, n])
  for (const run of plan.runs) {
    for (let j = 0; j < run.count; j++) {
      const ai = run.aStart + j * run.aStep
      const bi = run.bStart + j * run.bStep
      const av = batchA === 1 ? aId : makeView(backend, aOff + 4 * ai * m * k, m * k)
      const bv = makeView(backend, bOff + 4 * bi * k * n, k * n)
      const ov = makeView(backend, outOff + 4 * (run.start + j) * m * n, m * n)
      matMul(av, aShape, 3, bv, bShape, 3, false, false, ov)
      if (av !== aId) dropView(backend, av)
      dropView(backend, bv)
      dropView(backend, ov)
    }
  }
}

export interface WasmMatMulArgs {
  a: tf.TensorInfo
  b: tf.TensorInfo
  transposeA: boolean
  transposeB: boolean
  backend: BackendWasm
  /** What computes the product; defaults to the XNNPACK route. */
  engine?: MatMulEngine
}

/** Computes `out` [batch, M, N] from operands laid out as `plan` says. */
export interface MatMulEngine {
  /** Whether `compute` accepts transposed operands; if not they are transposed first. */
  transposes: boolean
  compute(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, plan: MatMulPlan): void
}

export const xnnpackEngine: MatMulEngine = {transposes: false, compute: xnnMatMul}

/** A float32 BatchMatMul on the wasm heap: returns a new [...batch, M, N] tensor info. */
export function wasmMatMul({a, b, transposeA, transposeB, backend, engine = xnnpackEngine}: WasmMatMulArgs): tf.TensorInfo {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`BatchMatMul on wasm supports float32 only, got ${a.dtype} and ${b.dtype}`)
  }
  const plan = planMatMul(a, b, transposeA, transposeB)
  const {batchA, batchB, m, k, n, outBatchShape} = plan
  const batch = tf.util.sizeFromShape(outBatchShape)
  // A transposed vector ([.., 1, c] or [.., r, 1]) already has the untransposed layout.
  const explicitA = transposeA && k > 1 && m > 1 && !engine.transposes
  const explicitB = transposeB && k > 1 && n > 1 && !engine.transposes
  const a3 = explicitA ? transposeLast2(backend, a, batchA, k, m) : a
  const b3 = explicitB ? transposeLast2(backend, b, batchB, n, k) : b
  const layout: MatMulPlan = {...plan, transposeA: transposeA && !explicitA && k > 1 && m > 1, transposeB: transposeB && !explicitB && k > 1 && n > 1}
  const out = backend.makeOutput([...outBatchShape, m, n], 'float32')
  if (batch * m * n > 0) {
    if (k === 0) backend.typedArrayFromHeap(out).fill(0)
    else engine.compute(backend, a3, b3, out, layout)
  }
  if (a3 !== a) backend.disposeData(a3.dataId)
  if (b3 !== b) backend.disposeData(b3.dataId)
  return out
}

function batchMatMulKernel(engine?: MatMulEngine) {
  return (args: {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}): tf.TensorInfo => {
    const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo}
    const {transposeA, transposeB} = args.attrs as unknown as tf.BatchMatMulAttrs
    return wasmMatMul({a, b, transposeA, transposeB, backend: args.backend, engine})
  }
}

/**
 * Registers the BatchMatMul over the stock wasm one; `engine` (e.g. a native sgemm) replaces
 * the XNNPACK route.
 */
export function registerWasmBatchMatMul(opts: {engine?: MatMulEngine} = {}): void {
  replaceKernel({kernelName: tf.BatchMatMul, backendName: 'wasm', kernelFunc: batchMatMulKernel(opts.engine) as unknown as tf.KernelFunc})
}
