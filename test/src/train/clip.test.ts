import {expect} from 'chai'
import * as tf from '#tfjs'
import {clipByGlobalNorm, globalNorm} from '../../../src/train/clip.js'

describe('clipByGlobalNorm', () => {
  before(async () => {
    await tf.setBackend('cpu')
  })

  it('measures the norm over all gradients together and scales them to maxNorm', async () => {
    // norm = sqrt(3² + 4² + 12²) = 13
    const grads = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 4])], ['b', tf.tensor2d([[12]])]])
    const {grads: out, norm} = await clipByGlobalNorm({grads, maxNorm: 1})
    expect(norm).to.be.closeTo(13, 1e-5)
    const c = 1 / (13 + 1e-6)
    const a = out.get('a')!.dataSync()
    expect(a[0]).to.be.closeTo(3 * c, 1e-7)
    expect(a[1]).to.be.closeTo(4 * c, 1e-7)
    expect(out.get('b')!.shape).to.deep.equal([1, 1])
    expect(out.get('b')!.dataSync()[0]).to.be.closeTo(12 * c, 1e-7)
    for (const t of [...grads.values(), ...out.values()]) t.dispose()
  })

  it('leaves gradients below maxNorm unchanged', async () => {
    const grads = new Map([['a', tf.tensor1d([0.3, 0.4])]])
    const {grads: out, norm} = await clipByGlobalNorm({grads, maxNorm: 1})
    expect(norm).to.be.closeTo(0.5, 1e-7)
    expect(Array.from(out.get('a')!.dataSync())).to.deep.equal(Array.from(grads.get('a')!.dataSync()))
    for (const t of [...grads.values(), ...out.values()]) t.dispose()
  })

  it('does not clip when maxNorm is 0, and reports a non-finite norm as such', async () => {
    const grads = new Map([['a', tf.tensor1d([30, 40])], ['n', tf.tensor1d([NaN])]])
    const {grads: out, norm} = await clipByGlobalNorm({grads, maxNorm: 0})
    expect(norm).to.be.NaN
    expect(out.get('a')!.dataSync()[1]).to.equal(40)
    for (const t of [...grads.values(), ...out.values()]) t.dispose()
    expect(await globalNorm([])).to.equal(0)
  })

  it('does not leak tensors', async () => {
    const grads = new Map([['a', tf.tensor1d([3, 4])]])
    const before = tf.memory().numTensors
    const {grads: out} = await clipByGlobalNorm({grads, maxNorm: 1})
    for (const t of out.values()) t.dispose()
    expect(tf.memory().numTensors).to.equal(before)
    grads.get('a')!.dispose()
  })
})
