import * as tf from '#tfjs'

/** The stock configs replaced so far, so they can be put back (first replacement wins). */
const stock = new Map<string, tf.KernelConfig>()

/**
 * Replaces (or adds) one kernel in the global registry without tfjs's "already registered"
 * warning. Replace only after the backend is initialised: tfjs runs a kernel's setupFunc at
 * backend init, and stock kernels that call each other directly rely on those setups.
 */
export function replaceKernel(config: tf.KernelConfig): void {
  const key = `${config.backendName}_${config.kernelName}`
  const previous = tf.getKernel(config.kernelName, config.backendName)
  if (previous !== undefined) {
    if (!stock.has(key)) stock.set(key, previous)
    tf.unregisterKernel(config.kernelName, config.backendName)
  }
  tf.registerKernel(config)
}

/** Puts back the stock kernel replaced by replaceKernel (no-op if it was never replaced). */
export function restoreKernel(kernelName: string, backendName: string): void {
  const original = stock.get(`${backendName}_${kernelName}`)
  if (original === undefined) return
  if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName)
  tf.registerKernel(original)
}

/** The stock kernel a replaceKernel call displaced (or the current one if never replaced). */
export function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return stock.get(`${backendName}_${kernelName}`) ?? tf.getKernel(kernelName, backendName)
}
