/**
 * The backend and native-kernel choices (pipeline `runtime.backend` / `runtime.native`), declared
 * here once, below src/config: the runtime code checks them and src/config/enums.ts
 * re-exports them with the pipeline's other closed sets.
 */

/** TensorFlow.js backend: `auto` picks the fastest one that can train on this machine. */
export const BACKENDS = ['auto', 'native', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const
export type Backend = (typeof BACKENDS)[number]

/** Native kernels: `auto` uses them when built, `on` requires them, `off` never loads them. */
export const NATIVE_MODES = ['auto', 'on', 'off'] as const
export type NativeMode = (typeof NATIVE_MODES)[number]
