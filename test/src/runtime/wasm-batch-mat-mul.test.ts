import * as tf from '#tfjs'
import {expect} from 'chai'
import {initBackend} from '../../../src/runtime/backend.js'
import {defineMatMulCases} from './matmul-cases.js'

describe('wasm BatchMatMul (XNNPACK route)', () => {
  before(async () => {
    const info = await initBackend({backend: 'wasm', native: 'off'})
    expect(info.native).to.equal(false)
  })

  defineMatMulCases()

  it('rejects mismatched inner dimensions with both shapes in the message', () => {
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5])))).to.throw(/3.*4|2,3.*4,5/)
  })
})
