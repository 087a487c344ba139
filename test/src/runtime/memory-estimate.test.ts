import {expect} from 'chai'
import {ConfigError} from '../../../src/errors.js'
import {checkFitsBackend, encoderParams, type EncoderShape, estimateTrainingMemory, type TrainingMemoryOptions} from '../../../src/runtime/memory-estimate.js'

const XSMALL: EncoderShape = {vocab: 128100, hidden: 384, layers: 12, heads: 6, intermediate: 1536}
const BASE: EncoderShape = {vocab: 128100, hidden: 768, layers: 12, heads: 12, intermediate: 3072}
const TINY: EncoderShape = {vocab: 1000, hidden: 64, layers: 2, heads: 2, intermediate: 128}

function options(d: EncoderShape, over: Partial<TrainingMemoryOptions> = {}): TrainingMemoryOptions {
  return {discriminator: d, generator: {...d, layers: Math.max(1, Math.floor(d.layers / 2))}, batch: 8, seqLen: 128, sharing: 'gdes', optimizer: 'adamw', ...over}
}

describe('estimateTrainingMemory', () => {
  it('counts DebertaV2Model parameters exactly as SPEC B.1.2 (xsmall, base)', () => {
    expect(encoderParams(XSMALL).total).to.equal(70_682_112)
    expect(encoderParams(BASE).total).to.equal(183_831_552)
  })

  it('grows with batch, sequence length, depth and width', () => {
    const total = (o: TrainingMemoryOptions) => estimateTrainingMemory(o).bytes.total
    const ref = total(options(XSMALL))
    expect(total(options(XSMALL, {batch: 16}))).to.be.above(ref)
    expect(total(options(XSMALL, {seqLen: 256}))).to.be.above(ref)
    expect(total(options({...XSMALL, layers: 13}))).to.be.above(ref)
    expect(total(options({...XSMALL, hidden: 448, heads: 7}))).to.be.above(ref)
    expect(total(options(XSMALL, {batch: 4}))).to.be.below(ref)
  })

  it('gives ES fewer parameters than GDES, and GDES as many as NES', () => {
    const params = (sharing: 'gdes' | 'es' | 'nes') => estimateTrainingMemory(options(XSMALL, {sharing})).params.trainable
    expect(params('es')).to.equal(params('gdes') - XSMALL.vocab * XSMALL.hidden)
    expect(params('gdes')).to.equal(params('nes'))
  })

  it('sums its parts into the total with the allocator slack', () => {
    const {bytes} = estimateTrainingMemory(options(TINY))
    const parts = bytes.weights + bytes.gradients + bytes.optimizer + bytes.activations
    expect(bytes.total).to.be.closeTo(parts * 1.1, 1)
    expect(bytes.optimizer).to.equal(2 * bytes.weights)
  })

  it('rejects a non-positive layer count naming the field', () => {
    expect(() => estimateTrainingMemory(options({...TINY, layers: 0}))).to.throw(ConfigError, /discriminator\.layers/)
  })
})

describe('checkFitsBackend', () => {
  it('refuses base on wasm with the numbers and the alternatives', () => {
    const estimate = estimateTrainingMemory(options(BASE))
    let caught: unknown
    try {
      checkFitsBackend({estimate, backend: 'wasm'})
    } catch (err) {
      caught = err
    }
    expect(caught).to.be.instanceOf(ConfigError)
    const err = caught as ConfigError
    expect(err.code).to.equal('memory.exceeds_backend')
    expect(err.message).to.contain(`${(estimate.bytes.total / 2 ** 30).toFixed(2)} GiB`)
    expect(err.message).to.match(/optimizer \d+ MiB/)
    expect(err.suggestions.join('\n')).to.match(/batch size[\s\S]*'cpu'[\s\S]*'tensorflow'/)
  })

  it('lets the same estimate through on cpu and tensorflow', () => {
    const estimate = estimateTrainingMemory(options(BASE))
    expect(() => checkFitsBackend({estimate, backend: 'cpu'})).to.not.throw()
    expect(() => checkFitsBackend({estimate, backend: 'tensorflow'})).to.not.throw()
  })

  it('lets a tiny model through on wasm', () => {
    expect(() => checkFitsBackend({estimate: estimateTrainingMemory(options(TINY)), backend: 'wasm'})).to.not.throw()
  })
})
