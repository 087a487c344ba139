import {expect} from 'chai'
import * as tf from '#tfjs'

import {v3Config, type DebertaConfig} from '../../../src/model/config.js'
import {DisentangledSelfAttention, skew} from '../../../src/model/disentangled-attention.js'
import {EVAL} from '../../../src/model/nn.js'
import {ParamStore} from '../../../src/model/params.js'
import {relativeAttentionIndex, relativeGatherIndex} from '../../../src/model/relative-position.js'
import {Rng} from '../../../src/util/rng.js'

function randomize(store: ParamStore, seed: number): void {
  const rng = Rng.derive(seed, 'test')
  for (const [k, v] of store.vars) store.assign(k, {shape: v.shape, data: Float32Array.from({length: v.size}, () => 0.3 * rng.normal())})
}

/** Direct O(B·nh·N²·d) evaluation of SPEC B.2.3 with explicit δ(i, j) lookups. */
function naiveAttention(opts: {cfg: DebertaConfig; store: ParamStore; prefix: string; x: Float32Array; mask: number[]; B: number; N: number; rel: Float32Array}): Float32Array {
  const {cfg, store, prefix, x, mask, B, N, rel} = opts
  const H = cfg.hiddenSize
  const nh = cfg.numAttentionHeads
  const d = H / nh
  const S = cfg.positionBuckets
  const lin = (inp: Float32Array, rows: number, name: string) => {
    const W = store.get(`${prefix}.${name}.weight`).dataSync()
    const b = store.get(`${prefix}.${name}.bias`).dataSync()
    const out = new Float32Array(rows * H)
    for (let r = 0; r < rows; r++) for (let o = 0; o < H; o++) {
      let s = b[o]
      for (let i = 0; i < H; i++) s += inp[r * H + i] * W[o * H + i]
      out[r * H + o] = s
    }
    return out
  }
  const q = lin(x, B * N, 'query_proj')
  const k = lin(x, B * N, 'key_proj')
  const v = lin(x, B * N, 'value_proj')
  const pk = cfg.posAttType.includes('c2p') ? lin(rel, 2 * S, cfg.shareAttKey ? 'key_proj' : 'pos_key_proj') : q
  const pq = cfg.posAttType.includes('p2c') ? lin(rel, 2 * S, cfg.shareAttKey ? 'query_proj' : 'pos_query_proj') : q
  const delta = relativeAttentionIndex({seqLen: N, bucketSize: S, maxPosition: cfg.maxPositionEmbeddings, span: S})
  const scale = Math.sqrt(d * (1 + cfg.posAttType.length))
  const dot = (a: Float32Array, ai: number, b: Float32Array, bi: number) => {
    let s = 0
    for (let t = 0; t < d; t++) s += a[ai + t] * b[bi + t]
    return s
  }
  const out = new Float32Array(B * N * H)
  for (let b = 0; b < B; b++) for (let h = 0; h < nh; h++) for (let i = 0; i < N; i++) {
    const sc = new Float64Array(N)
    for (let j = 0; j < N; j++) {
      const qi = (b * N + i) * H + h * d
      const kj = (b * N + j) * H + h * d
      const dl = delta[i * N + j]
      let s = dot(q, qi, k, kj)
      if (cfg.posAttType.includes('c2p')) s += dot(q, qi, pk, dl * H + h * d)
      if (cfg.posAttType.includes('p2c')) s += dot(k, kj, pq, dl * H + h * d)
      sc[j] = mask[b * N + j] ? s / scale : -Infinity
    }
    const m = Math.max(...sc)
    const e = Array.from(sc, (s) => Math.exp(s - m))
    const z = e.reduce((a, c) => a + c, 0)
    for (let t = 0; t < d; t++) {
      let acc = 0
      for (let j = 0; j < N; j++) acc += (e[j] / z) * v[(b * N + j) * H + h * d + t]
      out[(b * N + i) * H + h * d + t] = acc
    }
  }
  return out
}

describe('disentangled-attention', () => {
  it('skew reads a[i, j - i + n - 1]', () => {
    const n = 4
    const a = tf.tensor3d(Float32Array.from({length: 2 * n * (2 * n - 1)}, (_, k) => k), [2, n, 2 * n - 1])
    const got = skew(a).arraySync()
    const src = a.arraySync()
    for (let x = 0; x < 2; x++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(got[x][i][j]).to.equal(src[x][i][j - i + n - 1])
    expect(skew(tf.ones([3, 1, 1]) as tf.Tensor3D).shape).to.deep.equal([3, 1, 1])
  })

  const cases: [string, Partial<DebertaConfig>][] = [
    ['shared keys, c2p + p2c', {}],
    ['separate pos_key_proj / pos_query_proj (share_att_key false)', {shareAttKey: false}],
    ['c2p only', {posAttType: ['c2p']}],
    ['p2c only, separate keys', {posAttType: ['p2c'], shareAttKey: false}],
  ]
  for (const [name, over] of cases) {
    it(`matches a direct evaluation of SPEC B.2.3: ${name}`, () => {
      const cfg = v3Config({hiddenSize: 8, numAttentionHeads: 2, positionBuckets: 4, maxPositionEmbeddings: 16, ...over})
      const store = new ParamStore({role: 't', seed: 1, std: 0.3})
      const att = new DisentangledSelfAttention({config: cfg, params: store, prefix: 'a'})
      randomize(store, 2)
      const B = 2
      const N = 7 // > S/2: log buckets and clamping both occur
      const rng = Rng.derive(3)
      const x = Float32Array.from({length: B * N * 8}, () => rng.normal())
      const rel = Float32Array.from({length: 8 * 8}, () => rng.normal())
      const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
      const before = tf.memory().numTensors
      const got = tf.tidy(() => {
        const bias = tf.reshape(tf.mul(tf.sub(1, tf.tensor1d(mask)), -1e9), [1, B, 1, N])
        const relIndex = relativeGatherIndex({seqLen: N, bucketSize: 4, maxPosition: 16, span: 4})
        return att.apply({x: tf.tensor2d(x, [B * N, 8]), batch: B, seqLen: N, keyMaskBias: bias, relTable: tf.tensor2d(rel, [8, 8]), relIndex, ctx: EVAL}).dataSync()
      })
      const want = naiveAttention({cfg, store, prefix: 'a', x, mask, B, N, rel})
      let worst = 0
      for (let r = 0; r < B * N; r++) if (mask[r]) for (let c = 0; c < 8; c++) worst = Math.max(worst, Math.abs(got[r * 8 + c] - want[r * 8 + c]))
      expect(worst).to.be.lessThan(1e-5)
      expect(tf.memory().numTensors).to.be.at.most(before + 2) // only the cached gather indices may stay
      store.dispose()
    })
  }
})
