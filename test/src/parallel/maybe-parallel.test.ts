import {expect} from 'chai'
import {RtdPair, v3Config} from '../../../src/model/index.js'
import {ParallelTrainable} from '../../../src/parallel/parallel-trainable.js'
import {maybeParallel, threadsPerReplica} from '../../../src/pretrain/maybe-parallel.js'
import {RtdTrainable} from '../../../src/pretrain/rtd-trainable.js'
import {initBackend} from '../../../src/runtime/backend.js'
import {ConfigError} from '../../../src/errors.js'
import {architecture as debertaV3} from '../../../plugins/deberta-v3/deberta-v3-networks.js'

describe('maybeParallel', function () {
  this.timeout(60_000)
  let t: RtdTrainable
  before(async () => {
    await initBackend({backend: 'cpu'})
    const shape = {vocabSize: 50, hiddenSize: 8, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 32, positionBuckets: 4}
    const pair = new RtdPair({architecture: debertaV3, discriminator: v3Config({...shape, numHiddenLayers: 1}), generator: v3Config({...shape, numHiddenLayers: 1}), seed: 1, maskTokenId: 4})
    t = new RtdTrainable({pair, special: {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}, tokenizerVocabSize: 50, mask: {rate: 0.15, recipe: 'all-mask'}, temperature: 1, seed: 1})
  })
  after(() => t.opts.pair.dispose())

  it('splits the thread budget over the replicas', () => {
    expect(threadsPerReplica({threads: 2, workers: 2})).to.equal(1)
    expect(threadsPerReplica({threads: 8, workers: 3})).to.equal(2)
    expect(threadsPerReplica({threads: 2, workers: 4})).to.equal(1)
  })

  it('returns the trainable itself for one worker, and for models it cannot split', async () => {
    expect((await maybeParallel({trainable: t, runtime: {workers: 1}})).trainable).to.equal(t)
    const notes: string[] = []
    const other = {parameterGroups: () => [], computeLossAndGrads: () => ({grads: new Map(), losses: {}, tokens: 0}), evaluateBatch: () => ({})}
    expect((await maybeParallel({trainable: other, runtime: {workers: 2}, log: (m) => notes.push(m)})).trainable).to.equal(other)
    expect(notes.join()).to.match(/one replica/)
  })

  it('wraps an RTD trainable for workers > 1 and refuses bad values', async () => {
    const p = await maybeParallel({trainable: t, runtime: {backend: 'cpu', workers: 2, threads: 2}})
    try {
      expect(p.trainable).to.be.instanceOf(ParallelTrainable)
      expect((p.trainable as ParallelTrainable).workerBackends()[0]).to.include({backend: 'cpu'})
    } finally {
      await p.close()
    }
    let err: unknown
    await maybeParallel({trainable: t, runtime: {workers: 0}}).catch((e) => (err = e))
    expect(err).to.be.instanceOf(ConfigError)
  })
})
