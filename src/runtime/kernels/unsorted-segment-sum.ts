/**
 * O(N) UnsortedSegmentSum for the wasm and cpu backends (SPEC A.11).
 *
 * `tf.gather`'s gradient is an UnsortedSegmentSum. tfjs 4.22's wasm backend has no such kernel
 * (so wasm cannot train at all) and cpu's builds one mask per segment: O(segments x N), minutes
 * per step for a [V, H] embedding. Both are replaced here by one pass over the input.
 */
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {cpuValues, internalsUnusable} from '../tfjs-internals.js'
import {replaceKernel} from './register-kernel.js'

type NumericArray = Float32Array | Int32Array

interface SegmentSumArgs {
  x: NumericArray
  xShape: number[]
  segmentIds: Int32Array
  numSegments: number
  out: NumericArray
}

/** Output shape: [numSegments, ...x.shape[segmentIds.rank:]] (TensorFlow semantics). */
export function segmentSumOutShape(xShape: number[], idsRank: number, numSegments: number): number[] {
  return [numSegments, ...xShape.slice(idsRank)]
}

/**
 * out[ids[i], :] += x[i, :] for every row i, in row order. `out` must be zero-filled.
 * Ids outside [0, numSegments) are dropped, as TensorFlow does for negative ids.
 */
export function segmentSumInto({x, xShape, segmentIds, numSegments, out}: SegmentSumArgs): void {
  const rows = segmentIds.length
  const inner = rows === 0 ? 0 : tf.util.sizeFromShape(xShape) / rows
  for (let i = 0; i < rows; i++) {
    const s = segmentIds[i]!
    if (s < 0 || s >= numSegments) continue
    const src = i * inner
    const dst = s * inner
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!
  }
}

function checkInputs(x: tf.TensorInfo, segmentIds: tf.TensorInfo): void {
  const idsShape = segmentIds.shape
  const prefixOk = idsShape.length <= x.shape.length && idsShape.every((d, i) => d === x.shape[i])
  if (!prefixOk) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${idsShape}] must be a prefix of x shape [${x.shape}]`)
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: x dtype ${x.dtype} is not supported (float32 or int32)`)
  }
}

function wasmUnsortedSegmentSum(args: {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}): tf.TensorInfo {
  const {x, segmentIds} = args.inputs as {x: tf.TensorInfo; segmentIds: tf.TensorInfo}
  const numSegments = args.attrs['numSegments'] as number
  const backend = args.backend
  checkInputs(x, segmentIds)
  const outShape = segmentSumOutShape(x.shape, segmentIds.shape.length, numSegments)
  const out = backend.makeOutput(outShape, x.dtype)
  // Views only after the allocation: malloc may grow the heap and detach older views.
  const outValues = backend.typedArrayFromHeap(out) as NumericArray
  outValues.fill(0)
  const ids = idsAsInt32(backend.typedArrayFromHeap(segmentIds), segmentIds.dtype)
  segmentSumInto({x: backend.typedArrayFromHeap(x) as NumericArray, xShape: x.shape, segmentIds: ids, numSegments, out: outValues})
  return out
}

interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: NumericArray): tf.TensorInfo
}

function cpuUnsortedSegmentSum(args: {inputs: tf.NamedTensorInfoMap; backend: CpuBackendLike; attrs: tf.NamedAttrMap}): tf.TensorInfo {
  const {x, segmentIds} = args.inputs as {x: tf.TensorInfo; segmentIds: tf.TensorInfo}
  const numSegments = args.attrs['numSegments'] as number
  const backend = args.backend
  checkInputs(x, segmentIds)
  const outShape = segmentSumOutShape(x.shape, segmentIds.shape.length, numSegments)
  const size = tf.util.sizeFromShape(outShape)
  const outValues = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)
  const ids = idsAsInt32(cpuValues(backend, segmentIds.dataId) as NumericArray, segmentIds.dtype)
  segmentSumInto({x: cpuValues(backend, x.dataId) as NumericArray, xShape: x.shape, segmentIds: ids, numSegments, out: outValues})
  return backend.makeTensorInfo(outShape, x.dtype, outValues)
}

function idsAsInt32(values: unknown, dtype: tf.DataType): Int32Array {
  if (dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds dtype ${dtype} is not supported (int32)`)
  return values as Int32Array
}

/** Registers the O(N) kernel for `backendName` ('wasm' or 'cpu'), replacing any existing one. */
export function registerUnsortedSegmentSum(backendName: 'wasm' | 'cpu'): void {
  // the cpu kernel reads the backend's storage (tfjs-internals.ts): on another version the stock kernel stays
  if (backendName === 'cpu' && internalsUnusable({cpu: true}) !== undefined) return
  replaceKernel({
    kernelName: tf.UnsortedSegmentSum,
    backendName,
    kernelFunc: (backendName === 'wasm' ? wasmUnsortedSegmentSum : cpuUnsortedSegmentSum) as unknown as tf.KernelFunc,
  })
}
