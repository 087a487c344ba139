import {expect} from 'chai'
import {ConfigError} from '../../../src/errors.js'
import {
  autoRecompute,
  checkFitsBackend,
  encoderParams,
  type EncoderShape,
  estimateTrainingMemory,
  recomputeHelps,
  type TrainingMemoryOptions,
  WASM_HEAP_LIMIT_BYTES,
} from '../../../src/runtime/memory-estimate.js'

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
    expect(bytes.total).to.be.closeTo(parts * 1.25, 1)
    expect(bytes.optimizer).to.equal(2 * bytes.weights)
  })

  it('recomputation cuts the activations, and auto picks it where the step would crowd the wasm heap', () => {
    const off = estimateTrainingMemory(options(XSMALL, {recompute: false}))
    const on = estimateTrainingMemory(options(XSMALL, {recompute: true}))
    expect(on.bytes.activations).to.be.below(off.bytes.activations / 3)
    expect(off.bytes.total).to.be.above(WASM_HEAP_LIMIT_BYTES) // xsmall b8 does not fit keeping its activations
    expect(estimateTrainingMemory(options(XSMALL)).recompute).to.equal(true)
    expect(estimateTrainingMemory(options(TINY)).recompute).to.equal(false)
    expect(recomputeHelps(options(XSMALL))).to.equal(true)
    expect(on.breakdown.join('; ')).to.contain('recomputed')
    // every other layer: between the two
    const alt = estimateTrainingMemory(options(XSMALL, {recompute: 'alternate'}))
    expect(alt.bytes.activations).to.be.above(on.bytes.activations).and.below(off.bytes.activations)
    expect(alt.breakdown.join('; ')).to.contain('every other layer')
  })

  it('auto recomputes every other layer on wasm only where that cuts the peak (bench-small), not for the offline default; on native none below 3 GiB', () => {
    const benchSmall: EncoderShape = {vocab: 8000, hidden: 256, layers: 4, heads: 4, intermediate: 1024}
    expect(autoRecompute(options(benchSmall), 'native')).to.equal(false)
    expect(autoRecompute(options(benchSmall), 'wasm')).to.equal('alternate')
    const offlineDefault: EncoderShape = {vocab: 4000, hidden: 128, layers: 2, heads: 4, intermediate: 512}
    const o = options(offlineDefault, {batch: 16, seqLen: 64, maskRate: 0.25})
    expect(estimateTrainingMemory({...o, recompute: 'alternate'}).bytes.total).to.be.above(0.9 * estimateTrainingMemory({...o, recompute: false}).bytes.total)
    expect(autoRecompute(o, 'wasm')).to.equal(false)
    expect(autoRecompute(o, 'native')).to.equal(false)
    expect(autoRecompute(options(XSMALL), 'native')).to.equal(true)
    expect(autoRecompute(options(benchSmall), 'cpu')).to.equal(false)
  })

  it('auto reads the memory it must fit from RTD_MEMORY_LIMIT, as the fit check does', () => {
    const benchSmall: EncoderShape = {vocab: 8000, hidden: 256, layers: 4, heads: 4, intermediate: 1024}
    const step = estimateTrainingMemory({...options(benchSmall), recompute: false}).bytes.total
    expect(autoRecompute(options(benchSmall), 'native', {})).to.equal(false)
    // a container allowed little more than the step itself: recompute, as on a machine with that much RAM
    expect(autoRecompute(options(benchSmall), 'native', {RTD_MEMORY_LIMIT: String(Math.round(step * 1.2))})).to.equal(true)
    expect(autoRecompute(options(benchSmall), 'native', {RTD_MEMORY_LIMIT: String(Math.round(step * 2))})).to.equal(false)
  })

  it('counts ES word-table gradient transients that GDES no longer has', () => {
    const act = (sharing: 'gdes' | 'es') => estimateTrainingMemory(options(XSMALL, {sharing, recompute: true})).bytes.activations
    expect(act('es') - act('gdes')).to.equal(4 * 2 * XSMALL.vocab * XSMALL.hidden)
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

  it('lets deberta-v3-xsmall GDES at batch 8, seq 128 through on wasm (with recomputation), not without it', () => {
    const estimate = estimateTrainingMemory(options(XSMALL))
    expect(estimate.recompute).to.equal(true)
    expect(() => checkFitsBackend({estimate, backend: 'wasm'})).to.not.throw()
    // measured (bench/train-step.ts): 2.52 GiB of live buffers at the peak, a 3.2 GiB heap
    expect(estimate.bytes.total).to.be.within(3.2 * 2 ** 30, WASM_HEAP_LIMIT_BYTES)
    expect(() => checkFitsBackend({estimate: estimateTrainingMemory(options(XSMALL, {recompute: false})), backend: 'wasm'})).to.throw(ConfigError)
  })

  it('refuses deberta-v3-base on wasm even with recomputation (weights, gradients and AdamW alone are ~3 GiB)', () => {
    const estimate = estimateTrainingMemory(options(BASE, {batch: 1, recompute: true}))
    expect(estimate.bytes.weights + estimate.bytes.gradients + estimate.bytes.optimizer).to.be.above(2.9 * 2 ** 30)
    expect(() => checkFitsBackend({estimate, backend: 'wasm'})).to.throw(ConfigError, /wasm backend's heap/)
  })

  it('lets a tiny model through on wasm', () => {
    expect(() => checkFitsBackend({estimate: estimateTrainingMemory(options(TINY)), backend: 'wasm'})).to.not.throw()
  })
})
