import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'
import {BatchIterator, type Batch} from '../../../src/data/batch-iterator.js'
import {maskBatch} from '../../../src/data/masking.js'
import {ShardSet} from '../../../src/data/shard-set.js'
import {ShardWriter} from '../../../src/data/shard-writer.js'
import {Rng} from '../../../src/util/rng.js'

/** 23 rows in shards of 5; row i = [1, 100+i, ... (i % 6 + 1 ids), 2]. */
function makeShards(dir: string): ShardSet {
  const w = new ShardWriter({dir, split: 'train', shardRows: 5, maxLength: 10})
  for (let i = 0; i < 23; i++) {
    const body = Array.from({length: (i % 6) + 1}, (_, k) => 100 + i + k * 1000)
    w.add(Int32Array.from([1, ...body, 2]))
  }
  return new ShardSet({dir, split: 'train', manifest: w.finish(23)})
}

const firstIds = (b: Batch) => Array.from({length: b.batchSize}, (_, r) => b.inputIds[r * b.seqLen + 1] - 100)

describe('BatchIterator', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-batch-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('visits every row once per epoch in a seeded order that changes between epochs', () => {
    const it = new BatchIterator({shards: makeShards(dir), batchSize: 4, seed: 1, maxLength: 10})
    const epoch = (e: number) => {
      const rows: number[] = []
      for (let k = 0; k < it.batchesPerEpoch; k++) {
        const b = it.next()!
        expect(b.position.epoch).to.equal(e)
        rows.push(...firstIds(b))
      }
      return rows
    }
    const e0 = epoch(0)
    const e1 = epoch(1)
    expect([...e0].sort((a, b) => a - b)).to.deep.equal(Array.from({length: 23}, (_, i) => i))
    expect([...e1].sort((a, b) => a - b)).to.deep.equal(Array.from({length: 23}, (_, i) => i))
    expect(e0).to.not.deep.equal(e1)
    expect(it.batchesPerEpoch).to.equal(6) // 5 full + 1 of 3
  })

  it('right-pads with [PAD] to the longest row, or to max_length', () => {
    const shards = makeShards(dir)
    const b = new BatchIterator({shards, batchSize: 3, seed: 0, maxLength: 10, shuffle: false}).next()!
    // rows 0,1,2 have 3,4,5 ids
    expect(b.seqLen).to.equal(5)
    expect([...b.attentionMask]).to.deep.equal([1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1])
    expect(b.inputIds[3]).to.equal(0)
    const f = new BatchIterator({shards, batchSize: 3, seed: 0, maxLength: 10, shuffle: false, padTo: 'max_length'}).next()!
    expect(f.seqLen).to.equal(10)
  })

  it('drops the last partial batch when asked, and stops after the given epochs', () => {
    const it = new BatchIterator({shards: makeShards(dir), batchSize: 4, seed: 0, maxLength: 10, dropLast: true, epochs: 1})
    let n = 0
    for (let b = it.next(); b; b = it.next()) {
      expect(b.batchSize).to.equal(4)
      n++
    }
    expect(n).to.equal(5)
  })

  it('resumes from a saved position with the same batches and masks', () => {
    const shards = makeShards(dir)
    const seed = 5
    const special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
    const stepOut = (b: Batch, step: number) => {
      const m = maskBatch({...b, special, vocabSize: 10000, rng: Rng.derive(seed, 'mask', step)})
      return {ids: [...b.inputIds], masked: [...m.maskedIds]}
    }
    const full = new BatchIterator({shards, batchSize: 4, seed, maxLength: 10})
    const all = Array.from({length: 15}, (_, step) => stepOut(full.next()!, step)) // crosses two epoch ends
    const first = new BatchIterator({shards, batchSize: 4, seed, maxLength: 10})
    for (let step = 0; step < 8; step++) first.next()
    const saved = JSON.parse(JSON.stringify(first.position))
    expect(saved).to.deep.equal({epoch: 1, index: 8})
    const resumed = new BatchIterator({shards, batchSize: 4, seed, maxLength: 10, position: saved})
    const rest = Array.from({length: 7}, (_, k) => stepOut(resumed.next()!, 8 + k))
    expect(rest).to.deep.equal(all.slice(8))
  })

  it('rejects a position outside the split', () => {
    expect(() => new BatchIterator({shards: makeShards(dir), batchSize: 4, seed: 0, maxLength: 10, position: {epoch: 0, index: 99}})).to.throw(RangeError, /23 rows/)
  })
})
