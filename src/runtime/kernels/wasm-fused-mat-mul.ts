/**
 * _FusedMatMul for the wasm backend: the routed matmul, then the bias add and the activation
 * through the stock wasm kernels. The stock fused kernel gives wrong results for batched inputs
 * with a bias in tfjs 4.22 (SPEC A.11), and would miss the fast matmul path besides.
 */
import * as tf from '#tfjs'
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm'
import {replaceKernel} from './register-kernel.js'
import {type MatMulEngine, wasmMatMul} from './wasm-batch-mat-mul.js'

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap}

function runWasmKernel(name: string, inputs: tf.NamedTensorInfoMap, backend: BackendWasm, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm')
  if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`)
  return kernel.kernelFunc({inputs, backend, attrs}) as tf.TensorInfo
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: tf.Relu, relu6: tf.Relu6, elu: tf.Elu, sigmoid: tf.Sigmoid, leakyrelu: tf.LeakyRelu, prelu: tf.Prelu,
}

function fusedMatMulKernel(engine?: MatMulEngine) {
  return ({inputs, backend, attrs}: KernelArgs): tf.TensorInfo => {
    const {a, b, bias, preluActivationWeights} = inputs as {a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo}
    const {transposeA, transposeB, activation, leakyreluAlpha} = attrs as unknown as tf._FusedMatMulAttrs
    let out = wasmMatMul({a, b, transposeA, transposeB, backend, engine})
    if (bias != null) {
      const added = runWasmKernel(tf.Add, {a: out, b: bias}, backend)
      backend.disposeData(out.dataId)
      out = added
    }
    if (activation !== undefined && activation !== 'linear') {
      const kernelName = ACTIVATION_KERNELS[activation]
      if (kernelName === undefined) throw new Error(`_FusedMatMul: activation '${activation}' is not supported on wasm`)
      const activated = activation === 'prelu'
        ? runWasmKernel(kernelName, {x: out, alpha: preluActivationWeights!}, backend)
        : runWasmKernel(kernelName, {x: out}, backend, activation === 'leakyrelu' ? {alpha: leakyreluAlpha ?? 0.2} : {})
      backend.disposeData(out.dataId)
      out = activated
    }
    return out
  }
}

/** Registers the fused matmul over the stock wasm one (same `engine` as the BatchMatMul). */
export function registerWasmFusedMatMul(opts: {engine?: MatMulEngine} = {}): void {
  replaceKernel({kernelName: tf._FusedMatMul, backendName: 'wasm', kernelFunc: fusedMatMulKernel(opts.engine) as unknown as tf.KernelFunc})
}
