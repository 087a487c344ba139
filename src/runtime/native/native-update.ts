/**
 * The native update loops (AdamW, sum of squares, scaling) that the optimizer and clipping use on
 * buffers they own on the wasm heap. Active only while the native kernels are registered
 * (register-native.ts sets them) and only when the loaded addon has them: an addon built before
 * they existed simply leaves the JS loops in charge.
 */
import type {NativeKernels} from './load-native.js'

export interface NativeUpdateKernels {
  adamw: NonNullable<NativeKernels['adamw']>
  sumsq: NonNullable<NativeKernels['sumsq']>
  scale: NonNullable<NativeKernels['scale']>
}

let active: NativeUpdateKernels | undefined

/** Use `kernels`' update loops from now on (undefined, or an addon without them: the JS loops). */
export function setNativeUpdateKernels(kernels: NativeKernels | undefined): boolean {
  const adamw = kernels?.adamw
  const sumsq = kernels?.sumsq
  const scale = kernels?.scale
  active = typeof adamw === 'function' && typeof sumsq === 'function' && typeof scale === 'function'
    ? {adamw: adamw.bind(kernels), sumsq: sumsq.bind(kernels), scale: scale.bind(kernels)}
    : undefined
  return active !== undefined
}

/** The active native update loops, if any. */
export function nativeUpdateKernels(): NativeUpdateKernels | undefined {
  return active
}

/** The native backend's update loops on tensors' own arrays (native-backend/), when it is active. */
export interface NativeArrayUpdateKernels {
  adamw: NonNullable<NativeKernels['adamwArrays']>
  sumsq: NonNullable<NativeKernels['sumsqArray']>
  /** x[i] = x[i] * fround(c) in place. */
  scale(x: Float32Array, c: number): void
}

let arrays: NativeArrayUpdateKernels | undefined

/** Use `kernels`' array loops from now on (undefined: off). */
export function setNativeArrayUpdateKernels(kernels: NativeKernels | undefined): void {
  const {adamwArrays, sumsqArray, unary} = kernels ?? {}
  arrays = typeof adamwArrays === 'function' && typeof sumsqArray === 'function' && typeof unary === 'function'
    ? {adamw: adamwArrays.bind(kernels), sumsq: sumsqArray.bind(kernels), scale: (x, c) => unary.call(kernels, 13, x, x, x.length, c)}
    : undefined
}

/** The native backend's update loops, if it is the active backend. */
export function nativeArrayUpdateKernels(): NativeArrayUpdateKernels | undefined {
  return arrays
}
