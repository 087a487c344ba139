/**
 * AddN on webgpu for any number of inputs. tfjs-backend-webgpu 4.22 binds every input as a
 * storage buffer in one shader, and a device allows only maxStorageBuffersPerShaderStage of them
 * (8 by default, output included): with more inputs (e.g. the global gradient norm sums ~40
 * tensors) Dawn rejects the pipeline, prints a validation error and the result is silently 0.
 * This kernel sums groups of at most `limit - 1` inputs, then sums the partial sums.
 */
import * as tf from '#tfjs'
import {webgpuStorageBufferLimit} from '../tfjs-internals.js'
import {replaceKernel, stockKernel} from './register-kernel.js'

/** WebGPU's default storage buffers per shader stage: what a device allows at least. */
const DEFAULT_STORAGE_BUFFER_LIMIT = 8

export function registerWebgpuAddN(): void {
  const stock = stockKernel('AddN', 'webgpu')
  if (stock === undefined) return
  const kernelFunc: tf.KernelFunc = (args) => {
    const backend = args.backend as tf.KernelBackend
    // the device's limit (an internal of the webgpu backend); WebGPU's default when it cannot be read
    const group = Math.max(2, (webgpuStorageBufferLimit(backend) ?? DEFAULT_STORAGE_BUFFER_LIMIT) - 1)
    const sum = (inputs: tf.TensorInfo[]): tf.TensorInfo => {
      if (inputs.length <= group) return stock.kernelFunc({...args, inputs: inputs as unknown as tf.NamedTensorInfoMap}) as tf.TensorInfo
      const partials: tf.TensorInfo[] = []
      for (let i = 0; i < inputs.length; i += group) partials.push(sum(inputs.slice(i, i + group)))
      const out = sum(partials)
      for (const p of partials) backend.disposeData(p.dataId)
      return out
    }
    return sum(args.inputs as unknown as tf.TensorInfo[])
  }
  replaceKernel({...stock, kernelFunc})
}
