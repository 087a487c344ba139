import {expect} from 'chai'
import * as path from 'node:path'
import * as tf from '#tfjs'

import {readSafetensors} from '../../../src/checkpoint/safetensors.js'
import {clearRelativePositionCache, logBucket, relativeAttentionIndex, relativeGatherIndex, relativePositionBuckets} from '../../../src/model/relative-position.js'
import {tinyFixture} from './fixture-path.js'

const V3 = {bucketSize: 256, maxPosition: 512}

describe('relative-position', () => {
  it('matches the SPEC B.2.2 reference values for S=256, P=512', () => {
    const r = [0, 1, 127, 128, 129, 130, 200, 255, 256, 300, 400, 500, 510, 511]
    const want = [0, 1, 127, 128, 129, 130, 169, 192, 192, 207, 233, 254, 255, 255]
    expect(r.map((x) => logBucket(x, V3))).to.deep.equal(want)
    expect(r.map((x) => logBucket(-x, V3) + 0)).to.deep.equal(want.map((w) => -w + 0))
  })

  it('puts |r| = 511 in bucket 255 (the float-precision edge), so δ(0, 511) = 1, not 0', () => {
    expect(logBucket(511, V3)).to.equal(255)
    expect(logBucket(-511, V3)).to.equal(-255)
    const idx = relativeAttentionIndex({...V3, seqLen: 512, span: 256})
    expect(idx[0 * 512 + 511]).to.equal(1) // r = -511
    expect(idx[511 * 512 + 0]).to.equal(511) // r = +511
  })

  it('matches the SPEC range table at its boundaries', () => {
    const ranges: [number, number, number][] = [[131, 131, 132], [169, 198, 200], [192, 255, 257], [230, 385, 389], [254, 500, 505], [255, 506, 511]]
    for (const [bucket, lo, hi] of ranges) {
      for (let r = lo; r <= hi; r++) expect(logBucket(r, V3), `r=${r}`).to.equal(bucket)
      expect(logBucket(lo - 1, V3)).to.equal(bucket - 1)
    }
  })

  it('hits every bucket 0..255 for |r| <= 511 and is odd', () => {
    const seen = new Set<number>()
    for (let r = 0; r <= 511; r++) {
      seen.add(logBucket(r, V3))
      expect(logBucket(-r, V3) + 0).to.equal(-logBucket(r, V3) + 0)
    }
    expect(seen.size).to.equal(256)
    expect(Math.max(...seen)).to.equal(255)
  })

  it('is the identity when bucketing is off (position_buckets <= 0)', () => {
    expect(relativePositionBuckets({seqLen: 4, bucketSize: -1, maxPosition: 512})).to.deep.equal(Int32Array.from([-3, -2, -1, 0, 1, 2, 3]))
  })

  it('clamps δ into [0, 2S-1] for sequences longer than the span', () => {
    const idx = relativeAttentionIndex({seqLen: 6, bucketSize: -1, maxPosition: 2, span: 2})
    expect(Math.min(...idx)).to.equal(0)
    expect(Math.max(...idx)).to.equal(3)
  })

  it('reproduces the fixture log_bucket and rel_att_index exactly (N=48, S=16, P=128)', () => {
    const exp = readSafetensors(path.join(tinyFixture, 'expected.safetensors'), {names: ['log_bucket', 'rel_att_index']}).tensors
    expect(relativePositionBuckets({seqLen: 48, bucketSize: 16, maxPosition: 128})).to.deep.equal(exp.get('log_bucket')!.data)
    expect(relativeAttentionIndex({seqLen: 48, bucketSize: 16, maxPosition: 128, span: 16})).to.deep.equal(exp.get('rel_att_index')!.data)
  })

  it('builds the gather indices once per length and keeps them out of tidy scopes', () => {
    clearRelativePositionCache()
    const before = tf.memory().numTensors
    let a = relativeGatherIndex({seqLen: 1, bucketSize: 4, maxPosition: 16, span: 4})
    tf.tidy(() => {
      a = relativeGatherIndex({seqLen: 5, bucketSize: 4, maxPosition: 16, span: 4})
    })
    const b = relativeGatherIndex({seqLen: 5, bucketSize: 4, maxPosition: 16, span: 4})
    expect(a).to.equal(b)
    expect(a.c2p.isDisposed).to.equal(false)
    expect(tf.memory().numTensors - before).to.equal(4)
    // c2p row t is the table row of r = (n-1) - t; p2c is its reverse.
    expect([...a.c2p.dataSync()]).to.deep.equal([...a.p2c.dataSync()].reverse())
    expect(a.c2p.dataSync()[4]).to.equal(4) // r = 0 -> δ = S
    clearRelativePositionCache()
    expect(tf.memory().numTensors).to.equal(before)
  })
})
