/**
 * Registers native kernels over the wasm backend's (issue 6): BatchMatMul and _FusedMatMul via
 * OpenBLAS sgemm, and Transpose, all working zero-copy on the wasm heap. They use wasm-backend
 * internals (memory offsets, the heap buffer), so backend.ts enables them only on the pinned
 * tfjs version.
 */
import * as tf from '@tensorflow/tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {replaceKernel, restoreKernel} from '../kernels/register-kernel.js'
import {type MatMulEngine, type MatMulPlan, registerWasmBatchMatMul} from '../kernels/wasm-batch-mat-mul.js'
import {registerWasmFusedMatMul} from '../kernels/wasm-fused-mat-mul.js'
import type {NativeKernels} from './load-native.js'

function heapOf(backend: BackendWasm): ArrayBuffer {
  // Read at each call: heap growth replaces the buffer.
  return backend.wasm.HEAPU8.buffer as ArrayBuffer
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

/** Registers the native kernels on 'wasm'; returns their kernel names. */
export function registerNativeKernels(opts: {kernels: NativeKernels}): string[] {
  const engine = nativeMatMulEngine(opts.kernels)
  registerWasmBatchMatMul({engine})
  registerWasmFusedMatMul({engine})
  replaceKernel({kernelName: tf.Transpose, backendName: 'wasm', kernelFunc: transposeKernel(opts.kernels) as unknown as tf.KernelFunc})
  return [tf.BatchMatMul, tf._FusedMatMul, tf.Transpose]
}

/** Puts the stock wasm Transpose back (the matmul kernels are re-registered by the caller). */
export function unregisterNativeKernels(): void {
  restoreKernel(tf.Transpose, 'wasm')
}
