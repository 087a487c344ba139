import * as tf from '@tensorflow/tfjs'
import {initBackend} from './src/runtime/backend.js'
import {probeWebgpu} from './src/runtime/webgpu-backend.js'
import {exclusiveBuffer} from './src/train/exclusive-buffer.js'
const check = (label: string) => {
  const v = tf.variable(tf.tensor1d([1, 2, 3]))
  const pin = v.clone()
  console.log(label, tf.getBackend(), tf.getKernel('Identity', 'wasm')?.kernelFunc.name, 'exclusive after clone:', exclusiveBuffer(v) !== undefined)
  tf.dispose([v, pin])
}
for (const step of process.argv.slice(2)) {
  if (step === 'probe') await probeWebgpu()
  else { const [b, n] = step.split(':'); await initBackend({backend: b as never, ...(n ? {native: n as never} : {})}) }
  if (tf.getBackend() === 'wasm') check(step)
}
process.exit(0)
