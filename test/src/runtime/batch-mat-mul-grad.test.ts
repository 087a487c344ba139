import {initBackend} from '../../../src/runtime/backend.js'
import {defineBroadcastGradCase} from './matmul-cases.js'

// The wasm backend runs this case in wasm-batch-mat-mul.test.ts and native-kernels.test.ts.
describe('BatchMatMul gradient on cpu', () => {
  before(async () => {
    await initBackend({backend: 'cpu'})
  })

  defineBroadcastGradCase()
})
