// Types of tfjs-esm.js (rtd's `#tfjs`): the package's own.
export * from '@tensorflow/tfjs'
