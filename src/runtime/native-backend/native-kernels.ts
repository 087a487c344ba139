/**
 * The `native` backend's C kernels (native/rtd_node_kernels.c) as TensorFlow.js kernel
 * functions. Each handles the common float32 case in place on the tensors' own arrays and hands
 * anything else (other dtypes, exotic broadcasts, unsupported activations) to the cpu backend's
 * JS kernel, which gives the same results and the same errors.
 */
import * as tf from '#tfjs'
import {aleaState, ATTENTION_PROBS_GRAD_KERNEL, ATTENTION_PROBS_KERNEL, DROPOUT_GRAD_KERNEL, DROPOUT_KERNEL, DROPOUT_MULTIPLIER_KERNEL, GELU_GRAD_KERNEL, GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, MLM_CROSS_ENTROPY_GRAD_KERNEL, MLM_CROSS_ENTROPY_KERNEL} from '../fused-ops.js'
import {hasNativeBackendKernels, type NativeKernels} from '../native/load-native.js'
import {cpuValues} from '../tfjs-internals.js'

/** What the kernels need of the backend (NativeBackend; any MathBackendCPU works): its tensors' arrays are read through cpuValues. */
interface Storage {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo
  /** A recycled output array (NativeBackend); contents arbitrary. */
  alloc?(dtype: tf.DataType, n: number): Float32Array | Int32Array | Uint8Array
  release?(a: Float32Array | Int32Array | Uint8Array): void
}

type Args = {inputs: tf.NamedTensorInfoMap; backend: Storage; attrs: tf.NamedAttrMap}
type Kernel = (args: Args) => tf.TensorInfo | tf.TensorInfo[]

/** The typed-array functions of the addon (absent from addons built before the native backend). */
export type NativeArrayKernels = Required<Pick<NativeKernels, 'mm' | 'binary' | 'unary' | 'reduce' | 'softmax' | 'transposeArray' |
  'gatherArray' | 'sliceArray' | 'padArray' | 'concatArrays' | 'segmentSum' | 'adamwArrays' | 'sumsqArray' | 'setThreadsAll' | 'openmp'>>

/** Whether the loaded addon has the native backend's kernels. */
export function hasArrayKernels(k: NativeKernels): k is NativeKernels & NativeArrayKernels {
  return hasNativeBackendKernels(k)
}

function values<T = Float32Array>(backend: Storage, t: tf.TensorInfo): T {
  return cpuValues(backend, t.dataId) as T
}

const size = (shape: number[]) => tf.util.sizeFromShape(shape)

/**
 * Whether every tensor is float32 with Float32Array storage. The cpu kernels' Cast from bool or
 * int32 to float32 shares the input's Uint8Array/Int32Array under the new dtype (our Cast
 * below copies instead, but a tensor made before the native backend was active may still).
 */
function allF32(backend: Storage, ...ts: tf.TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32' && cpuValues(backend, t.dataId) instanceof Float32Array)
}

function cpu(name: string): Kernel {
  const k = tf.getKernel(name, 'cpu')
  if (k === undefined) throw new Error(`the cpu backend has no ${name} kernel`)
  return k.kernelFunc as unknown as Kernel
}

/** An output array the kernel will overwrite entirely (recycled when the backend pools). */
function newArray(backend: Storage, dtype: tf.DataType, n: number): Float32Array | Int32Array | Uint8Array {
  if (backend.alloc !== undefined) return backend.alloc(dtype, n)
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n)
}

function newF32(backend: Storage, n: number): Float32Array {
  return newArray(backend, 'float32', n) as Float32Array
}

const COPYABLE = new Set<tf.DataType>(['float32', 'int32', 'bool'])

// ---------------------------------------------------------------- matmul

const ACTIVATIONS: Record<string, number> = {linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5}

interface MatMulPlan {
  batch: number
  m: number
  n: number
  k: number
  aStride: number
  bStride: number
  outShape: number[]
}

/** The one-call layout of a (broadcast) batched matmul, or undefined for cases left to cpu. */
function planMatMul(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): MatMulPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined
  const ra = a.shape.length
  const rb = b.shape.length
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!
  const kb = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!
  if (k !== kb || m === 0 || n === 0) return undefined
  const batchShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
  const batch = size(batchShape)
  const batchA = size(a.shape.slice(0, -2))
  const batchB = size(b.shape.slice(0, -2))
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1) || batch === 0) return undefined
  return {batch, m, n, k, aStride: batchA === 1 ? 0 : m * k, bStride: batchB === 1 ? 0 : k * n, outShape: [...batchShape, m, n]}
}

function batchMatMul(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.BatchMatMul)
  return (args) => {
    const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo}
    const {transposeA, transposeB} = args.attrs as unknown as tf.BatchMatMulAttrs
    const plan = allF32(args.backend, a, b) ? planMatMul(a, b, transposeA, transposeB) : undefined
    if (plan === undefined) return fallback(args)
    const out = newF32(args.backend, plan.batch * plan.m * plan.n)
    nk.mm(values(args.backend, a), values(args.backend, b), out, plan.batch, plan.m, plan.n, plan.k, transposeA ? 1 : 0, transposeB ? 1 : 0,
      plan.aStride, plan.bStride, null, 0, 0)
    return args.backend.makeTensorInfo(plan.outShape, 'float32', out)
  }
}

/** matmul + bias + activation in one kernel: bias per column (shape [..., n] of n values) or of the output's full shape. */
function fusedMatMul(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf._FusedMatMul)
  return (args) => {
    const {a, b, bias, preluActivationWeights} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo}
    const {transposeA, transposeB, activation, leakyreluAlpha} = args.attrs as unknown as {transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number}
    const act = ACTIVATIONS[activation ?? 'linear']
    const plan = allF32(args.backend, a, b) ? planMatMul(a, b, transposeA, transposeB) : undefined
    if (plan === undefined || act === undefined || preluActivationWeights != null) return fallback(args)
    let biasValues: Float32Array | null = null
    if (bias != null) {
      const bs = bias.shape
      const perColumn = size(bs) === plan.n && (bs.length === 0 ? plan.n === 1 : bs[bs.length - 1] === plan.n)
      const full = bs.length === plan.outShape.length && bs.every((d, i) => d === plan.outShape[i])
      if (!allF32(args.backend, bias) || (!perColumn && !full)) return fallback(args)
      biasValues = values(args.backend, bias)
    }
    const out = newF32(args.backend, plan.batch * plan.m * plan.n)
    nk.mm(values(args.backend, a), values(args.backend, b), out, plan.batch, plan.m, plan.n, plan.k, transposeA ? 1 : 0, transposeB ? 1 : 0,
      plan.aStride, plan.bStride, biasValues, act, leakyreluAlpha ?? 0.2)
    return args.backend.makeTensorInfo(plan.outShape, 'float32', out)
  }
}

// ---------------------------------------------------------------- elementwise

const BINARY: Record<string, number> = {
  [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3, [tf.Maximum]: 4, [tf.Minimum]: 5, [tf.SquaredDifference]: 6,
}

/**
 * Output shape and per-dimension element strides of both operands (0 where broadcast), with
 * size-1 dims dropped and neighbouring dims merged where both operands are contiguous across
 * them; undefined past rank 8.
 */
export function broadcastPlan(aShape: number[], bShape: number[]): {outShape: number[]; shape: number[]; aStrides: number[]; bStrides: number[]} | undefined {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape)
  const r = outShape.length
  const strides = (s: number[]) => {
    const out = new Array<number>(r).fill(0)
    let acc = 1
    for (let d = r - 1; d >= 0; d--) {
      const i = d - (r - s.length)
      const dim = i >= 0 ? s[i]! : 1
      out[d] = dim === 1 ? 0 : acc
      acc *= dim
    }
    return out
  }
  const as = strides(aShape)
  const bs = strides(bShape)
  const shape: number[] = []
  const aStrides: number[] = []
  const bStrides: number[] = []
  for (let d = 0; d < r; d++) {
    if (outShape[d] === 1) continue
    const last = shape.length - 1
    if (last >= 0 && aStrides[last] === as[d]! * outShape[d]! && bStrides[last] === bs[d]! * outShape[d]!) {
      shape[last] = shape[last]! * outShape[d]!
      aStrides[last] = as[d]!
      bStrides[last] = bs[d]!
    } else {
      shape.push(outShape[d]!)
      aStrides.push(as[d]!)
      bStrides.push(bs[d]!)
    }
  }
  if (shape.length === 0) return {outShape, shape: [1], aStrides: [0], bStrides: [0]}
  if (shape.length > 8) return undefined
  return {outShape, shape, aStrides, bStrides}
}

function binaryKernel(nk: NativeArrayKernels, name: string): Kernel {
  const fallback = cpu(name)
  const op = BINARY[name]!
  return (args) => {
    const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo}
    if (!allF32(args.backend, a, b)) return fallback(args)
    const plan = broadcastPlan(a.shape, b.shape)
    if (plan === undefined) return fallback(args)
    const out = newF32(args.backend, size(plan.outShape))
    if (out.length > 0) nk.binary(op, values(args.backend, a), values(args.backend, b), out, plan.shape, plan.aStrides, plan.bStrides)
    return args.backend.makeTensorInfo(plan.outShape, 'float32', out)
  }
}

function addN(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.AddN)
  return (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[]
    const first = inputs[0]!
    if (inputs.length < 2 || !allF32(args.backend, ...inputs) || inputs.some((t) => !tf.util.arraysEqual(t.shape, first.shape))) return fallback(args)
    const n = size(first.shape)
    const out = newF32(args.backend, n)
    if (n > 0) {
      const dims = [n]
      const ones = [1]
      nk.binary(0, values(args.backend, inputs[0]!), values(args.backend, inputs[1]!), out, dims, ones, ones)
      // the same element of out is read and written: in place is safe for elementwise sums
      for (const t of inputs.slice(2)) nk.binary(0, out, values(args.backend, t), out, dims, ones, ones)
    }
    return args.backend.makeTensorInfo(first.shape, 'float32', out)
  }
}

const UNARY: Record<string, number> = {
  [tf.Exp]: 0, [tf.Log]: 1, [tf.Neg]: 2, [tf.Sqrt]: 3, [tf.Rsqrt]: 4, [tf.Square]: 5, [tf.Abs]: 6, [tf.Tanh]: 7, [tf.Sigmoid]: 8,
  [tf.Relu]: 9, [tf.Erf]: 10, [tf.Reciprocal]: 11, [tf.Floor]: 15,
}

function unaryKernel(nk: NativeArrayKernels, name: string): Kernel {
  const fallback = cpu(name)
  const op = UNARY[name]!
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    if (!allF32(args.backend, x)) return fallback(args)
    const n = size(x.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.unary(op, values(args.backend, x), out, n, 0)
    return args.backend.makeTensorInfo(x.shape, 'float32', out)
  }
}

// ---------------------------------------------------------------- reductions and softmax

const REDUCE: Record<string, number> = {[tf.Sum]: 0, [tf.Mean]: 1, [tf.Max]: 2, [tf.Min]: 3}

function reduceKernel(nk: NativeArrayKernels, name: string): Kernel {
  const fallback = cpu(name)
  const op = REDUCE[name]!
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const attrs = args.attrs as {axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean}
    const axis = name === tf.Max ? attrs.reductionIndices : attrs.axis
    if (!allF32(args.backend, x) || x.shape.length === 0) return fallback(args)
    const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape).sort((p, q) => p - q)
    // one contiguous block of axes: x viewed as [outer, rows, inner]
    if (axes.length === 0 || axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) return fallback(args)
    const first = axes[0]!
    const lastAxis = axes[axes.length - 1]!
    const outer = size(x.shape.slice(0, first))
    const rows = size(x.shape.slice(first, lastAxis + 1))
    const inner = size(x.shape.slice(lastAxis + 1))
    if (rows === 0 && (op === 2 || op === 3)) return fallback(args)
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i))
    const out = newF32(args.backend, outer * inner)
    if (rows === 0) out.fill(op === 1 ? NaN : 0)
    else if (out.length > 0) nk.reduce(op, values(args.backend, x), out, outer, inner, rows)
    return args.backend.makeTensorInfo(outShape, 'float32', out)
  }
}

function softmax(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.Softmax)
  return (args) => {
    const {logits} = args.inputs as {logits: tf.TensorInfo}
    const {dim} = args.attrs as unknown as tf.SoftmaxAttrs
    const r = logits.shape.length
    if (!allF32(args.backend, logits) || r === 0 || (dim !== -1 && dim !== r - 1)) return fallback(args)
    const cols = logits.shape[r - 1]!
    const n = size(logits.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.softmax(values(args.backend, logits), out, n / cols, cols)
    return args.backend.makeTensorInfo(logits.shape, 'float32', out)
  }
}

// ---------------------------------------------------------------- copies

function transpose(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.Transpose)
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {perm} = args.attrs as unknown as tf.TransposeAttrs
    if (!COPYABLE.has(x.dtype) || !storageMatches(args.backend, x) || x.shape.length === 0 || x.shape.length > 8) return fallback(args)
    const outShape = perm.map((p) => x.shape[p]!)
    const out = newArray(args.backend, x.dtype, size(outShape))
    if (out.length > 0) nk.transposeArray(values(args.backend, x), out, x.shape, perm)
    return args.backend.makeTensorInfo(outShape, x.dtype, out)
  }
}

function gather(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.GatherV2)
  return (args) => {
    const {x, indices} = args.inputs as {x: tf.TensorInfo; indices: tf.TensorInfo}
    const {axis, batchDims} = args.attrs as unknown as tf.GatherV2Attrs
    if (!COPYABLE.has(x.dtype) || !storageMatches(args.backend, x) || !storageMatches(args.backend, indices) || indices.dtype !== 'int32' || batchDims !== 0 || size(x.shape) === 0) return fallback(args)
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0]!
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, parsedAxis, batchDims)
    const out = newArray(args.backend, x.dtype, size(info.outputShape))
    if (size(indices.shape) > 0) {
      const bad = nk.gatherArray(values(args.backend, x), values(args.backend, indices), out, info.batchSize, info.outerSize, info.dimSize, info.sliceSize)
      if (bad >= 0) {
        args.backend.release?.(out)
        return fallback(args) // the cpu kernel names the bad index
      }
    }
    return args.backend.makeTensorInfo(info.outputShape, x.dtype, out)
  }
}

function slice(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.Slice)
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {begin, size: sz} = args.attrs as unknown as tf.SliceAttrs
    if (!COPYABLE.has(x.dtype) || !storageMatches(args.backend, x) || x.shape.length === 0 || x.shape.length > 8) return fallback(args)
    const [b, s] = tf.backend_util.slice_util.parseSliceParams(x as tf.Tensor, begin, sz) as [number[], number[]]
    tf.backend_util.slice_util.assertParamsValid(x as tf.Tensor, b, s)
    // always a copy (the cpu kernel returns a view for contiguous slices, which would let an
    // in-place update of one tensor reach another)
    const out = newArray(args.backend, x.dtype, size(s))
    if (out.length > 0) nk.sliceArray(values(args.backend, x), out, x.shape, b, s)
    return args.backend.makeTensorInfo(s, x.dtype, out)
  }
}

/** PadV2 (constant padding) of float32: the gradient of Slice (the relative-position shift). */
function pad(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.PadV2)
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {paddings, constantValue} = args.attrs as unknown as tf.PadV2Attrs
    if (!allF32(args.backend, x) || x.shape.length === 0 || x.shape.length > 8) return fallback(args)
    const outShape = paddings.map((p, i) => p[0]! + x.shape[i]! + p[1]!)
    const out = newF32(args.backend, size(outShape))
    if (out.length > 0) nk.padArray(values(args.backend, x), out, x.shape, paddings.map((p) => p[0]!), outShape, constantValue)
    return args.backend.makeTensorInfo(outShape, 'float32', out)
  }
}

function concat(nk: NativeArrayKernels): Kernel {
  const fallback = cpu(tf.Concat)
  return (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[]
    const {axis} = args.attrs as unknown as tf.ConcatAttrs
    const first = inputs[0]
    if (first === undefined || !COPYABLE.has(first.dtype) || inputs.some((t) => t.dtype !== first.dtype || !storageMatches(args.backend, t)) || first.shape.length === 0) return fallback(args)
    const $axis = tf.util.parseAxisParam(axis, first.shape)[0]!
    const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), $axis)
    const nonEmpty = inputs.filter((t) => size(t.shape) > 0)
    const out = newArray(args.backend, first.dtype, size(outShape))
    if (nonEmpty.length > 0 && out.length > 0) {
      const outer = size(outShape.slice(0, $axis))
      nk.concatArrays(nonEmpty.map((t) => values(args.backend, t)), out, outer, nonEmpty.map((t) => size(t.shape.slice($axis))))
    }
    return args.backend.makeTensorInfo(outShape, first.dtype, out)
  }
}

/** The storage a dtype should have: Float32Array, Int32Array or Uint8Array (bool). */
function storageMatches(backend: Storage, t: tf.TensorInfo): boolean {
  const v = cpuValues(backend, t.dataId)
  return t.dtype === 'float32' ? v instanceof Float32Array : t.dtype === 'int32' ? v instanceof Int32Array : t.dtype === 'bool' ? v instanceof Uint8Array : false
}

/**
 * Cast to float32 or int32 as a copy into storage of the new type (the cpu kernel shares a
 * bool or int32 input's array under the new dtype, which the C kernels cannot read as floats).
 */
function cast(): Kernel {
  const fallback = cpu(tf.Cast)
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {dtype} = args.attrs as unknown as tf.CastAttrs
    const src = cpuValues(args.backend, x.dataId)
    const widening = (dtype === 'float32' && (x.dtype === 'int32' || x.dtype === 'bool')) || (dtype === 'int32' && x.dtype === 'bool')
    if (!widening || !(src instanceof Int32Array || src instanceof Uint8Array || src instanceof Float32Array)) return fallback(args)
    const out = newArray(args.backend, dtype, src.length)
    out.set(src)
    return args.backend.makeTensorInfo(x.shape, dtype, out)
  }
}

function unsortedSegmentSum(nk: NativeArrayKernels): Kernel {
  return (args) => {
    const {x, segmentIds} = args.inputs as {x: tf.TensorInfo; segmentIds: tf.TensorInfo}
    const numSegments = args.attrs['numSegments'] as number
    const prefixOk = segmentIds.shape.length <= x.shape.length && segmentIds.shape.every((d, i) => d === x.shape[i])
    if (!prefixOk) throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`)
    if (segmentIds.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds dtype ${segmentIds.dtype} is not supported (int32)`)
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)]
    const inner = size(x.shape.slice(segmentIds.shape.length))
    if (allF32(args.backend, x)) {
      const out = newF32(args.backend, size(outShape))
      nk.segmentSum(values(args.backend, x), values(args.backend, segmentIds), out, numSegments, inner)
      return args.backend.makeTensorInfo(outShape, 'float32', out)
    }
    if (x.dtype === 'float32') return cpu(tf.UnsortedSegmentSum)(args)
    if (x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: x dtype ${x.dtype} is not supported (float32 or int32)`)
    const xs = values<Int32Array>(args.backend, x)
    const ids = values<Int32Array>(args.backend, segmentIds)
    const out = new Int32Array(size(outShape))
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i]!
      if (s < 0 || s >= numSegments) continue
      for (let j = 0; j < inner; j++) out[s * inner + j]! += xs[i * inner + j]!
    }
    return args.backend.makeTensorInfo(outShape, 'int32', out)
  }
}

// ---------------------------------------------------------------- fused model operations (src/runtime/fused-ops.ts)

function gelu(nk: NativeArrayKernels & FusedKernels): Kernel {
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    if (!allF32(args.backend, x)) throw new Error(`${GELU_KERNEL}: x must be float32`)
    const n = size(x.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.gelu(values(args.backend, x), out, n)
    return args.backend.makeTensorInfo(x.shape, 'float32', out)
  }
}

function geluGrad(nk: NativeArrayKernels & FusedKernels): Kernel {
  return (args) => {
    const {dy, x} = args.inputs as {dy: tf.TensorInfo; x: tf.TensorInfo}
    if (!allF32(args.backend, dy, x) || !tf.util.arraysEqual(dy.shape, x.shape)) throw new Error(`${GELU_GRAD_KERNEL}: dy and x must be float32 of one shape`)
    const n = size(x.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.geluGrad(values(args.backend, dy), values(args.backend, x), out, n)
    return args.backend.makeTensorInfo(x.shape, 'float32', out)
  }
}

function dropoutMultiplier(nk: NativeArrayKernels & FusedKernels): Kernel {
  return (args) => {
    const {shape, keepProb, seed} = args.attrs as unknown as {shape: number[]; keepProb: number; seed: number}
    const out = newF32(args.backend, size(shape))
    const st = aleaState(seed)
    if (out.length > 0) nk.dropoutMultiplier(out, st.c, st.s0, st.s1, st.s2, keepProb)
    return args.backend.makeTensorInfo(shape, 'float32', out)
  }
}

function layerNorm(nk: NativeArrayKernels & FusedKernels): Kernel {
  return (args) => {
    const {x, gamma, beta} = args.inputs as {x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo}
    const {eps} = args.attrs as {eps: number}
    const cols = x.shape[x.shape.length - 1]!
    if (!allF32(args.backend, x, gamma, beta) || size(gamma.shape) !== cols || size(beta.shape) !== cols) throw new Error(`${LAYER_NORM_KERNEL}: float32 x [..., n] with gamma and beta of n`)
    const n = size(x.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.layerNorm(values(args.backend, x), values(args.backend, gamma), values(args.backend, beta), out, n / cols, cols, eps)
    return args.backend.makeTensorInfo(x.shape, 'float32', out)
  }
}

function layerNormGrad(nk: NativeArrayKernels & FusedKernels): Kernel {
  return (args) => {
    const {dy, x, gamma} = args.inputs as {dy: tf.TensorInfo; x: tf.TensorInfo; gamma: tf.TensorInfo}
    const {eps} = args.attrs as {eps: number}
    const cols = x.shape[x.shape.length - 1]!
    if (!allF32(args.backend, dy, x, gamma) || !tf.util.arraysEqual(dy.shape, x.shape) || size(gamma.shape) !== cols) throw new Error(`${LAYER_NORM_GRAD_KERNEL}: float32 dy and x [..., n], gamma of n`)
    const n = size(x.shape)
    const dx = newF32(args.backend, n)
    const dgamma = newF32(args.backend, cols)
    const dbeta = newF32(args.backend, cols)
    if (n > 0) nk.layerNormGrad(values(args.backend, dy), values(args.backend, x), values(args.backend, gamma), dx, dgamma, dbeta, n / cols, cols, eps)
    else {
      dgamma.fill(0)
      dbeta.fill(0)
    }
    return [args.backend.makeTensorInfo(x.shape, 'float32', dx), args.backend.makeTensorInfo(gamma.shape, 'float32', dgamma), args.backend.makeTensorInfo(gamma.shape, 'float32', dbeta)]
  }
}

/**
 * Disentangled attention's probabilities (fused-ops.ts, attentionProbs): inputs c2c [X, N, N], mask
 * [.., N] of maskRows rows, c2p and p2c [X, N, 2N-1] when present; attrs keepProb (< 1: dropout
 * with seed). Outputs probs [X, N, N], and with dropout also y (the softmax) and keep (bool flags).
 */
function attentionProbsKernel(nk: AttentionKernels): Kernel {
  return (args) => {
    const {c2c, mask, c2p, p2c} = args.inputs as {c2c: tf.TensorInfo; mask: tf.TensorInfo; c2p?: tf.TensorInfo; p2c?: tf.TensorInfo}
    const {keepProb, seed, maskRows} = args.attrs as unknown as {keepProb: number; seed: number; maskRows: number}
    const [X, N] = c2c.shape as [number, number, number]
    const band = [X, N, 2 * N - 1]
    const fits = c2c.shape.length === 3 && c2c.shape[2] === N && size(mask.shape) === maskRows * N && X % maskRows === 0 &&
      [c2p, p2c].every((t) => t === undefined || tf.util.arraysEqual(t.shape, band))
    const present = [c2c, mask, c2p, p2c].filter((t): t is tf.TensorInfo => t !== undefined)
    if (!fits || !allF32(args.backend, ...present)) throw new Error(`${ATTENTION_PROBS_KERNEL}: float32 c2c [X, N, N], mask of maskRows·N, c2p and p2c [X, N, 2N-1]`)
    const n = size(c2c.shape)
    const out = newF32(args.backend, n)
    const dropout = keepProb < 1
    const y = dropout ? newF32(args.backend, n) : null
    const keep = dropout ? (newArray(args.backend, 'bool', n) as Uint8Array) : null
    const st = dropout ? aleaState(seed) : {c: 0, s0: 0, s1: 0, s2: 0}
    const v = (t?: tf.TensorInfo) => (t === undefined ? null : values(args.backend, t))
    if (n > 0) nk.attentionProbs(values(args.backend, c2c), v(c2p), v(p2c), values(args.backend, mask), out, y, keep, X, N, maskRows, st.c, st.s0, st.s1, st.s2, keepProb)
    const probs = args.backend.makeTensorInfo(c2c.shape, 'float32', out)
    if (!dropout) return probs
    return [probs, args.backend.makeTensorInfo(c2c.shape, 'float32', y!), args.backend.makeTensorInfo(c2c.shape, 'bool', keep!)]
  }
}

/** attentionProbs's gradient: inputs dy, y [X, N, N] (and keep with dropout); attrs keepProb, c2p, p2c (booleans) -> [dc2c, dc2p?, dp2c?]. */
function attentionProbsGradKernel(nk: AttentionKernels): Kernel {
  return (args) => {
    const {dy, y, keep} = args.inputs as {dy: tf.TensorInfo; y: tf.TensorInfo; keep?: tf.TensorInfo}
    const {keepProb, c2p, p2c} = args.attrs as unknown as {keepProb: number; c2p: boolean; p2c: boolean}
    const [X, N] = y.shape as [number, number, number]
    if (!allF32(args.backend, dy, y) || y.shape.length !== 3 || y.shape[2] !== N || !tf.util.arraysEqual(dy.shape, y.shape) ||
      (keep !== undefined && (keep.dtype !== 'bool' || !tf.util.arraysEqual(keep.shape, y.shape)))) {
      throw new Error(`${ATTENTION_PROBS_GRAD_KERNEL}: float32 dy and y [X, N, N], keep bool of their shape`)
    }
    const n = size(y.shape)
    const band = [X, N, 2 * N - 1]
    const ds = newF32(args.backend, n)
    const dc2p = c2p ? newF32(args.backend, size(band)) : null
    const dp2c = p2c ? newF32(args.backend, size(band)) : null
    if (n > 0) nk.attentionProbsGrad(values(args.backend, dy), values(args.backend, y), keep === undefined ? null : values<Uint8Array>(args.backend, keep), keepProb, ds, dc2p, dp2c, X, N)
    const outs = [args.backend.makeTensorInfo(y.shape, 'float32', ds)]
    if (dc2p !== null) outs.push(args.backend.makeTensorInfo(band, 'float32', dc2p))
    if (dp2c !== null) outs.push(args.backend.makeTensorInfo(band, 'float32', dp2c))
    return outs
  }
}

/** tf.dropout in one pass: input x; attrs keepProb, seed -> [out, keep (bool)]. */
function dropoutKernel(nk: AttentionKernels): Kernel {
  return (args) => {
    const {x} = args.inputs as {x: tf.TensorInfo}
    const {keepProb, seed} = args.attrs as unknown as {keepProb: number; seed: number}
    if (!allF32(args.backend, x)) throw new Error(`${DROPOUT_KERNEL}: x must be float32`)
    const n = size(x.shape)
    const out = newF32(args.backend, n)
    const keep = newArray(args.backend, 'bool', n) as Uint8Array
    const st = aleaState(seed)
    if (n > 0) nk.dropout(values(args.backend, x), out, keep, st.c, st.s0, st.s1, st.s2, keepProb)
    return [args.backend.makeTensorInfo(x.shape, 'float32', out), args.backend.makeTensorInfo(x.shape, 'bool', keep)]
  }
}

/** Its gradient: dy, keep -> dy·keep/keepProb (attrs keepProb). */
function dropoutGradKernel(nk: AttentionKernels): Kernel {
  return (args) => {
    const {dy, keep} = args.inputs as {dy: tf.TensorInfo; keep: tf.TensorInfo}
    const {keepProb} = args.attrs as unknown as {keepProb: number}
    if (!allF32(args.backend, dy) || keep.dtype !== 'bool' || !tf.util.arraysEqual(dy.shape, keep.shape)) throw new Error(`${DROPOUT_GRAD_KERNEL}: float32 dy and bool keep of one shape`)
    const n = size(dy.shape)
    const out = newF32(args.backend, n)
    if (n > 0) nk.dropoutGrad(values(args.backend, dy), values<Uint8Array>(args.backend, keep), out, keepProb)
    return args.backend.makeTensorInfo(dy.shape, 'float32', out)
  }
}

/** The MLM loss's cross-entropy (fused-ops.ts, mlmCrossEntropy): logits [M, V] float32, labels [M] int32 -> a float32 scalar. */
function mlmCrossEntropyKernel(nk: CrossEntropyKernels): Kernel {
  return (args) => {
    const {logits, labels} = args.inputs as {logits: tf.TensorInfo; labels: tf.TensorInfo}
    const [M, V] = logits.shape as [number, number]
    if (!allF32(args.backend, logits) || logits.shape.length !== 2 || labels.dtype !== 'int32' || !storageMatches(args.backend, labels) || size(labels.shape) !== M || M < 1) {
      throw new Error(`${MLM_CROSS_ENTROPY_KERNEL}: float32 logits [M, V] (M >= 1) and int32 labels [M]`)
    }
    const out = newF32(args.backend, 1)
    out[0] = nk.mlmCrossEntropy(values(args.backend, logits), values<Int32Array>(args.backend, labels), M, V)
    return args.backend.makeTensorInfo([], 'float32', out)
  }
}

/** Its gradient: dy (float32 scalar), logits, labels -> dlogits [M, V]. */
function mlmCrossEntropyGradKernel(nk: CrossEntropyKernels): Kernel {
  return (args) => {
    const {dy, logits, labels} = args.inputs as {dy: tf.TensorInfo; logits: tf.TensorInfo; labels: tf.TensorInfo}
    const [M, V] = logits.shape as [number, number]
    if (!allF32(args.backend, dy, logits) || size(dy.shape) !== 1 || logits.shape.length !== 2 || labels.dtype !== 'int32' || !storageMatches(args.backend, labels) || size(labels.shape) !== M || M < 1) {
      throw new Error(`${MLM_CROSS_ENTROPY_GRAD_KERNEL}: float32 dy (one value) and logits [M, V] (M >= 1), int32 labels [M]`)
    }
    const out = newF32(args.backend, M * V)
    nk.mlmCrossEntropyGrad(values(args.backend, logits), values<Int32Array>(args.backend, labels), M, V, values(args.backend, dy)[0]!, out)
    return args.backend.makeTensorInfo(logits.shape, 'float32', out)
  }
}

/** The cross-entropy kernels (absent from addons built before them). */
interface CrossEntropyKernels {
  mlmCrossEntropy(logits: Float32Array, labels: Int32Array, rows: number, cols: number): number
  mlmCrossEntropyGrad(logits: Float32Array, labels: Int32Array, rows: number, cols: number, dy: number, out: Float32Array): void
}

function hasCrossEntropyKernels(k: object): k is CrossEntropyKernels {
  const f = k as Partial<CrossEntropyKernels>
  return typeof f.mlmCrossEntropy === 'function' && typeof f.mlmCrossEntropyGrad === 'function'
}

/** The attention and dropout kernels (absent from addons built before them). */
interface AttentionKernels {
  attentionProbs(c2c: Float32Array, c2p: Float32Array | null, p2c: Float32Array | null, mask: Float32Array, out: Float32Array, y: Float32Array | null, keep: Uint8Array | null,
    X: number, N: number, maskRows: number, c: number, s0: number, s1: number, s2: number, keepProb: number): void
  attentionProbsGrad(dy: Float32Array, y: Float32Array, keep: Uint8Array | null, keepProb: number, ds: Float32Array, dc2p: Float32Array | null, dp2c: Float32Array | null, X: number, N: number): void
  dropout(x: Float32Array, out: Float32Array, keep: Uint8Array, c: number, s0: number, s1: number, s2: number, keepProb: number): void
  dropoutGrad(dy: Float32Array, keep: Uint8Array, out: Float32Array, keepProb: number): void
}

function hasAttentionKernels(k: object): k is AttentionKernels {
  const f = k as Partial<AttentionKernels>
  return typeof f.attentionProbs === 'function' && typeof f.attentionProbsGrad === 'function' && typeof f.dropout === 'function' && typeof f.dropoutGrad === 'function'
}

/** The fused kernels (absent from addons built before them). */
interface FusedKernels {
  gelu(x: Float32Array, out: Float32Array, n: number): void
  geluGrad(dy: Float32Array, x: Float32Array, out: Float32Array, n: number): void
  dropoutMultiplier(out: Float32Array, c: number, s0: number, s1: number, s2: number, keepProb: number): void
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array, rows: number, cols: number, eps: number): void
  layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number, eps: number): void
}

function hasFusedKernels(k: object): k is FusedKernels {
  const f = k as Partial<FusedKernels>
  return typeof f.gelu === 'function' && typeof f.geluGrad === 'function' && typeof f.dropoutMultiplier === 'function' &&
    typeof f.layerNorm === 'function' && typeof f.layerNormGrad === 'function'
}

/** Every native kernel, as configs for the `native` backend. */
export function nativeKernelConfigs(kernels: NativeKernels): tf.KernelConfig[] {
  if (!hasArrayKernels(kernels)) return []
  const nk = kernels
  const list: Array<[string, Kernel]> = [
    [tf.BatchMatMul, batchMatMul(nk)],
    [tf._FusedMatMul, fusedMatMul(nk)],
    ...Object.keys(BINARY).map((name): [string, Kernel] => [name, binaryKernel(nk, name)]),
    [tf.AddN, addN(nk)],
    ...Object.keys(UNARY).map((name): [string, Kernel] => [name, unaryKernel(nk, name)]),
    ...Object.keys(REDUCE).map((name): [string, Kernel] => [name, reduceKernel(nk, name)]),
    [tf.Softmax, softmax(nk)],
    [tf.Transpose, transpose(nk)],
    [tf.GatherV2, gather(nk)],
    [tf.Slice, slice(nk)],
    [tf.PadV2, pad(nk)],
    [tf.Concat, concat(nk)],
    [tf.UnsortedSegmentSum, unsortedSegmentSum(nk)],
    [tf.Cast, cast()],
  ]
  if (hasFusedKernels(nk)) list.push([GELU_KERNEL, gelu(nk)], [GELU_GRAD_KERNEL, geluGrad(nk)], [DROPOUT_MULTIPLIER_KERNEL, dropoutMultiplier(nk)],
      [LAYER_NORM_KERNEL, layerNorm(nk)], [LAYER_NORM_GRAD_KERNEL, layerNormGrad(nk)])
  if (hasAttentionKernels(nk)) list.push([ATTENTION_PROBS_KERNEL, attentionProbsKernel(nk)], [ATTENTION_PROBS_GRAD_KERNEL, attentionProbsGradKernel(nk)],
      [DROPOUT_KERNEL, dropoutKernel(nk)], [DROPOUT_GRAD_KERNEL, dropoutGradKernel(nk)])
  if (hasCrossEntropyKernels(nk)) list.push([MLM_CROSS_ENTROPY_KERNEL, mlmCrossEntropyKernel(nk)], [MLM_CROSS_ENTROPY_GRAD_KERNEL, mlmCrossEntropyGradKernel(nk)])
  return list.map(([kernelName, f]) => ({kernelName, backendName: 'native', kernelFunc: f as unknown as tf.KernelFunc}))
}
