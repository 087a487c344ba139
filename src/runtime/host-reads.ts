/**
 * Reading tensors back to the host on every backend, webgpu included (issue 11): in Node,
 * tfjs-backend-webgpu cannot read synchronously (dataSync/arraySync need OffscreenCanvas), so
 * the training step, evaluation, checkpointing and export read with `await t.data()`. On cpu
 * and wasm the values are the same bits either way.
 */
import * as tf from '#tfjs'
import {RuntimeFailure} from '../errors.js'
import {webgpuDropHostCopy, webgpuLacksHostCopy} from './tfjs-internals.js'
import {takeDeviceError} from './webgpu-backend.js'

/** Whether the active backend supports dataSync (webgpu in Node does not). */
export function syncReadsWork(): boolean {
  return tf.getBackend() !== 'webgpu'
}

/** The values of scalar (or one-element) tensors, with one read from the device. */
export async function readScalars(tensors: tf.Tensor[]): Promise<number[]> {
  if (tensors.length === 0) return []
  const all = tensors.length === 1 ? tensors[0]! : tf.tidy(() => tf.concat(tensors.map((t) => t.reshape([-1]).toFloat())))
  try {
    const values = Array.from(await all.data())
    const gpuError = takeDeviceError()
    if (gpuError !== undefined) {
      throw new RuntimeFailure(`the GPU rejected work of this step, so its results are wrong: ${gpuError.split('\n')[0]}`, {
        code: 'runtime.gpu_error',
        suggestions: ['run with runtime.backend wasm to compare, and report the message with the adapter (`rtd verify --backend webgpu` prints it)'],
      })
    }
    return values
  } finally {
    if (all !== tensors[0]) all.dispose()
  }
}

/**
 * Runs `fn`, which reads `tensors` with dataSync, after reading them asynchronously where sync
 * reads do not work: tfjs-backend-webgpu keeps an async read's values as the tensor's host copy,
 * and dataSync returns that copy. The host copies are dropped afterwards (the GPU buffer stays
 * the tensor's storage), so they cost host memory only while `fn` runs (on a webgpu backend
 * other than the pinned version they stay: tfjs-internals.ts).
 */
export async function withHostCopies<T>(tensors: Iterable<tf.Tensor>, fn: () => T | Promise<T>): Promise<T> {
  if (syncReadsWork()) return fn()
  const list = [...tensors].filter((t) => !t.isDisposed)
  // only drop copies this call made (a tensor made from host data may have no GPU buffer yet)
  const cached = new Set(list.filter((t) => webgpuLacksHostCopy(t.dataId)).map((t) => t.dataId))
  await Promise.all(list.map((t) => t.data()))
  try {
    return await fn()
  } finally {
    for (const id of cached) webgpuDropHostCopy(id)
  }
}
