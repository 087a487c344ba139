/**
 * Registers native kernels over the wasm backend's (issue 6): BatchMatMul and _FusedMatMul via
 * OpenBLAS sgemm; Transpose; Exp and leading-axes Sum, which must be bit-identical to wasm's
 * and are registered only after a probe shows they are. All work zero-copy on the wasm heap
 * through wasm-backend internals (memory offsets, the heap buffer), so backend.ts enables them
 * only on the pinned tfjs version. GatherV2 and Slice (pure copies, so exact by construction)
 * come from addons that have them; RTD_NATIVE_COPY=off keeps the stock ones (for measuring).
 * Also activates the addon's update loops (AdamW, clipping:
 * native-update.ts) while registered.
 */
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {replaceKernel, restoreKernel, stockKernel} from '../kernels/register-kernel.js'
import {wasmHeap} from '../tfjs-internals.js'
import {type MatMulEngine, type MatMulPlan, registerWasmBatchMatMul} from '../kernels/wasm-batch-mat-mul.js'
import {registerWasmFusedMatMul} from '../kernels/wasm-fused-mat-mul.js'
import type {NativeKernels} from './load-native.js'
import {setNativeUpdateKernels} from './native-update.js'

function heapOf(backend: BackendWasm): ArrayBuffer {
  return wasmHeap(backend)!
}

/** A MatMulEngine that runs cblas_sgemm on the heap, transposes and broadcast included. */
export function nativeMatMulEngine(kernels: NativeKernels): MatMulEngine {
  return {
    transposes: true,
    compute(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, plan: MatMulPlan): void {
      const {batchA, batchB, m, k, n} = plan
      const aOff = backend.getMemoryOffset(a.dataId)
      const bOff = backend.getMemoryOffset(b.dataId)
      const cOff = backend.getMemoryOffset(out.dataId)
      const ta = plan.transposeA ? 1 : 0
      const tb = plan.transposeB ? 1 : 0
      if (batchB === 1 && !plan.transposeA) {
        // Shared right operand: fold A's batch into M for one large sgemm.
        kernels.sgemm(heapOf(backend), 1, batchA * m, n, k, 0, tb, aOff, 0, bOff, 0, cOff)
        return
      }
      for (const run of plan.runs) {
        kernels.sgemm(heapOf(backend), run.count, m, n, k, ta, tb,
          aOff + 4 * run.aStart * m * k, run.aStep * m * k, bOff + 4 * run.bStart * k * n, run.bStep * k * n, cOff + 4 * run.start * m * n)
      }
    },
  }
}

function transposeKernel(kernels: NativeKernels) {
  return ({inputs, backend, attrs}: {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}): tf.TensorInfo => {
    const {x} = inputs as {x: tf.TensorInfo}
    const perm = attrs['perm'] as number[]
    if (x.dtype === 'string' || x.dtype === 'complex64') throw new Error(`Transpose: dtype ${x.dtype} is not supported on wasm`)
    const outShape = perm.map((p) => x.shape[p]!)
    const out = backend.makeOutput(outShape, x.dtype)
    if (tf.util.sizeFromShape(outShape) > 0) {
      kernels.transpose(heapOf(backend), backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId),
        x.shape, perm, x.dtype === 'bool' ? 1 : 4)
    }
    return out
  }
}

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}

function runStock(name: string, args: KernelArgs): tf.TensorInfo {
  const kernel = stockKernel(name, 'wasm')
  if (kernel === undefined) throw new Error(`no stock wasm kernel ${name}`)
  return kernel.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
}

function expKernel(kernels: NativeKernels) {
  return (args: KernelArgs): tf.TensorInfo => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    if (x.dtype !== 'float32') return runStock(tf.Exp, args)
    const {backend} = args
    const out = backend.makeOutput(x.shape, 'float32')
    const size = tf.util.sizeFromShape(x.shape)
    if (size > 0) kernels.exp(heapOf(backend), backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId), size)
    return out
  }
}

/** Sum over leading axes ([0], [0, 1], ... or all) of float32: a column sum; else the stock kernel. */
function sumKernel(kernels: NativeKernels) {
  return (args: KernelArgs): tf.TensorInfo => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {axis, keepDims} = args.attrs as unknown as tf.SumAttrs
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q)
    const leading = axes.length > 0 && axes.every((a, i) => a === i)
    if (x.dtype !== 'float32' || !leading) return runStock(tf.Sum, args)
    const {backend} = args
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length))
    const rest = x.shape.slice(axes.length)
    const outShape = keepDims ? [...axes.map(() => 1), ...rest] : rest
    const out = backend.makeOutput(outShape, 'float32')
    const cols = tf.util.sizeFromShape(rest)
    if (cols > 0) kernels.colsum(heapOf(backend), backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId), rows, cols)
    return out
  }
}

/** Bytes per element on the wasm heap; undefined for dtypes the copy kernels leave to wasm. */
function bytesPerElement(dtype: tf.DataType): number | undefined {
  if (dtype === 'float32' || dtype === 'int32') return 4
  if (dtype === 'bool') return 1
  return undefined
}

/**
 * GatherV2 as row copies on any axis with batchDims 0. batchDims > 0 (unused here; the stock
 * kernel even read out of bounds on one such case) and an empty x (stock returns a flattened
 * shape) stay with the stock kernel, as do indices outside [0, dim), where it throws its error.
 */
function gatherKernel(gather: NonNullable<NativeKernels['gather']>) {
  return (args: KernelArgs): tf.TensorInfo => {
    const {x, indices} = args.inputs as {x: tf.TensorInfo; indices: tf.TensorInfo}
    const {axis, batchDims} = args.attrs as unknown as tf.GatherV2Attrs
    const bpe = bytesPerElement(x.dtype)
    if (bpe === undefined || indices.dtype !== 'int32' || batchDims !== 0 || tf.util.sizeFromShape(x.shape) === 0) return runStock(tf.GatherV2, args)
    const {backend} = args
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0]!
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, parsedAxis, batchDims)
    const nIdx = tf.util.sizeFromShape(indices.shape) / info.batchSize
    const out = backend.makeOutput(info.outputShape, x.dtype)
    if (tf.util.sizeFromShape(indices.shape) === 0) return out
    const bad = gather(heapOf(backend), backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(indices.dataId),
      backend.getMemoryOffset(out.dataId), info.batchSize, info.outerSize, info.dimSize, info.sliceSize, nIdx, bpe)
    if (bad < 0) return out
    backend.disposeData(out.dataId)
    return runStock(tf.GatherV2, args)
  }
}

/** Slice as contiguous-run copies; string tensors go to the stock kernel. */
function sliceKernel(slice: NonNullable<NativeKernels['slice']>) {
  return (args: KernelArgs): tf.TensorInfo => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {begin, size} = args.attrs as unknown as tf.SliceAttrs
    const bpe = bytesPerElement(x.dtype)
    if (bpe === undefined || x.shape.length === 0) return runStock(tf.Slice, args)
    const {backend} = args
    const [begin_, size_] = tf.backend_util.slice_util.parseSliceParams(x, begin, size) as [number[], number[]]
    const out = backend.makeOutput(size_, x.dtype)
    if (tf.util.sizeFromShape(size_) > 0) {
      slice(heapOf(backend), backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId), x.shape, begin_, size_, bpe)
    }
    return out
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length)
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length)
  return ua.every((v, i) => v === ub[i])
}

/** Whether `kernel` reproduces the stock wasm kernel bit for bit on the probe inputs. */
function matchesStock(name: string, kernel: (args: KernelArgs) => tf.TensorInfo, probes: Array<{x: tf.Tensor; attrs: tf.NamedAttrMap}>): boolean {
  const backend = tf.backend() as unknown as BackendWasm
  return probes.every(({x, attrs}) => {
    const args: KernelArgs = {inputs: {x}, backend, attrs}
    const mine = kernel(args)
    const theirs = runStock(name, args)
    const same = sameBits(backend.readSync(mine.dataId) as Float32Array, backend.readSync(theirs.dataId) as Float32Array)
    backend.disposeData(mine.dataId)
    backend.disposeData(theirs.dataId)
    return same
  })
}

/** Deterministic [n/64, 64] values in [-scale/2, scale/2): exp over- and underflows included. */
function probeValues(n: number, scale: number): tf.Tensor {
  const v = new Float32Array(n)
  let s = 12345
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    v[i] = (s / 2 ** 32 - 0.5) * scale
  }
  return tf.tensor(v, [n / 64, 64])
}

/** Registers the native kernels on 'wasm' (must be the active backend); returns their names. */
export function registerNativeKernels(opts: {kernels: NativeKernels; log?: (msg: string) => void}): string[] {
  const {kernels} = opts
  const engine = nativeMatMulEngine(kernels)
  registerWasmBatchMatMul({engine})
  registerWasmFusedMatMul({engine})
  replaceKernel({kernelName: tf.Transpose, backendName: 'wasm', kernelFunc: transposeKernel(kernels) as unknown as tf.KernelFunc})
  const names: string[] = [tf.BatchMatMul, tf._FusedMatMul, tf.Transpose]
  // Exp and Sum feed the losses: use them only where they match wasm exactly.
  restoreKernel(tf.Exp, 'wasm')
  restoreKernel(tf.Sum, 'wasm')
  const probes = [probeValues(4096, 40), probeValues(65536, 200)]
  try {
    const exp = expKernel(kernels)
    if (matchesStock(tf.Exp, exp, probes.map((x) => ({x, attrs: {}})))) {
      replaceKernel({kernelName: tf.Exp, backendName: 'wasm', kernelFunc: exp as unknown as tf.KernelFunc})
      names.push(tf.Exp)
    } else {
      opts.log?.('native Exp off: not bit-identical to wasm on this system')
    }
    const sum = sumKernel(kernels)
    const sumProbes = probes.flatMap((x) => [{x, attrs: {axis: [0], keepDims: false}}, {x, attrs: {axis: [0, 1], keepDims: true}}])
    if (matchesStock(tf.Sum, sum, sumProbes)) {
      replaceKernel({kernelName: tf.Sum, backendName: 'wasm', kernelFunc: sum as unknown as tf.KernelFunc})
      names.push(tf.Sum)
    } else {
      opts.log?.('native Sum off: not bit-identical to wasm on this system')
    }
  } finally {
    tf.dispose(probes)
  }
  // Pure copies: exact by construction (tests compare them with the stock kernels).
  restoreKernel(tf.GatherV2, 'wasm')
  restoreKernel(tf.Slice, 'wasm')
  const {gather, slice} = kernels
  if (process.env['RTD_NATIVE_COPY'] === 'off') {
    opts.log?.('native GatherV2 and Slice off: RTD_NATIVE_COPY=off')
  } else if (typeof gather === 'function' && typeof slice === 'function') {
    replaceKernel({kernelName: tf.GatherV2, backendName: 'wasm', kernelFunc: gatherKernel(gather.bind(kernels)) as unknown as tf.KernelFunc})
    replaceKernel({kernelName: tf.Slice, backendName: 'wasm', kernelFunc: sliceKernel(slice.bind(kernels)) as unknown as tf.KernelFunc})
    names.push(tf.GatherV2, tf.Slice)
  } else {
    opts.log?.('native GatherV2 and Slice off: the addon predates them (rebuild with `node native/build.mjs`)')
  }
  // AdamW and the clipping norm on owned heap buffers (src/train/adamw.ts, clip.ts)
  if (setNativeUpdateKernels(kernels)) names.push('AdamW', 'SumSquares', 'Scale')
  else opts.log?.('native AdamW off: the addon predates it (rebuild with `node native/build.mjs`)')
  return names
}

/** Puts the stock wasm kernels back (the matmul kernels are re-registered by the caller). */
export function unregisterNativeKernels(): void {
  setNativeUpdateKernels(undefined)
  for (const name of [tf.Transpose, tf.Exp, tf.Sum, tf.GatherV2, tf.Slice]) restoreKernel(name, 'wasm')
}
