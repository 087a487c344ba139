import {expect} from 'chai'
import {aucFromScores, RtdMetricsAccumulator} from '../../../src/eval/rtd-metrics.js'
import {Rng} from '../../../src/util/rng.js'

const bce = (x: number, y: number): number => -(y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))))

/** O(P·N) pairwise AUC with ties counted 1/2 (what sklearn's roc_auc_score equals). */
function bruteAuc(pos: number[], neg: number[]): number {
  let s = 0
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0
  return s / (pos.length * neg.length)
}

describe('RtdMetricsAccumulator', () => {
  // two sequences of 4 slots, the last slot of the second is padding
  const logits = [-2, 1.5, -0.5, 0.3, /* */ -1, 2, 0.7, 9]
  const labels = [0, 1, 1, 0, /* */ 0, 1, 0, 1]
  const mask = [1, 1, 1, 1, /* */ 1, 1, 1, 0]

  it('computes discriminator metrics over non-pad tokens, by hand', () => {
    const acc = new RtdMetricsAccumulator()
    acc.addDiscriminator({logits, labels, mask})
    const r = acc.result()
    // non-pad: 7 tokens; labels 0,1,1,0,0,1,0; predictions (logit>0) 0,1,0,1,0,1,1
    // tp = 2, fn = 1, fp = 2, tn = 2
    const expectedLoss = [0, 1, 2, 3, 4, 5, 6].reduce((s, i) => s + bce(logits[i], labels[i]), 0) / 7
    expect(r.disc_loss).to.be.closeTo(expectedLoss, 1e-12)
    expect(r.disc_accuracy).to.be.closeTo(4 / 7, 1e-12)
    expect(r.disc_precision).to.be.closeTo(0.5, 1e-12)
    expect(r.disc_recall).to.be.closeTo(2 / 3, 1e-12)
    expect(r.disc_f1).to.be.closeTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 1e-12)
    // positives 1.5, -0.5, 2 vs negatives -2, 0.3, -1, 0.7: pairs won 4 + 2 + 4 = 10 of 12
    expect(r.disc_auc).to.be.closeTo(10 / 12, 1e-12)
    expect(r.disc_tokens).to.equal(7)
    expect(r.baseline_accuracy).to.be.closeTo(4 / 7, 1e-12)
    expect(r.baseline_f1).to.equal(0)
    expect(r).to.not.have.property('mlm_loss')
  })

  it('sums over the whole set: splitting the batches differently gives the same numbers', () => {
    const whole = new RtdMetricsAccumulator()
    whole.addDiscriminator({logits, labels, mask})
    const split = new RtdMetricsAccumulator()
    split.addDiscriminator({logits: logits.slice(0, 1), labels: labels.slice(0, 1), mask: mask.slice(0, 1)})
    split.addDiscriminator({logits: logits.slice(1), labels: labels.slice(1), mask: mask.slice(1)})
    const a = whole.result()
    const b = split.result()
    for (const k of Object.keys(a)) expect(b[k], k).to.be.closeTo(a[k], 1e-12)
  })

  it('computes generator metrics on masked tokens and the replaced-token rate', () => {
    const acc = new RtdMetricsAccumulator()
    acc.addGenerator({losses: [1, 2], predicted: [5, 6], original: [5, 7], sampled: [5, 9]})
    acc.addGenerator({losses: [0.5], predicted: [3], original: [3], sampled: [4]})
    const r = acc.result()
    expect(r.mlm_loss).to.be.closeTo(3.5 / 3, 1e-12)
    expect(r.mlm_accuracy).to.be.closeTo(2 / 3, 1e-12)
    expect(r.mlm_perplexity).to.be.closeTo(Math.exp(3.5 / 3), 1e-12)
    expect(r.masked_tokens).to.equal(3)
    expect(r.replaced_rate).to.be.closeTo(2 / 3, 1e-12)
    expect(r).to.not.have.property('disc_f1')
  })

  it('scores zero precision and F1 when nothing is predicted replaced, and NaN AUC with one class', () => {
    const acc = new RtdMetricsAccumulator()
    acc.addDiscriminator({logits: [-1, -2, -3], labels: [0, 1, 0], mask: [1, 1, 1]})
    const r = acc.result()
    expect(r.disc_precision).to.equal(0)
    expect(r.disc_f1).to.equal(0)
    expect(r.disc_auc).to.be.closeTo(0.5, 1e-12) // the positive (-2) beats one negative (-3) of two
    const one = new RtdMetricsAccumulator()
    one.addDiscriminator({logits: [1, 2], labels: [0, 0], mask: [1, 1]})
    expect(one.result().disc_auc).to.be.NaN
  })

  it('rejects arrays of different lengths', () => {
    expect(() => new RtdMetricsAccumulator().addDiscriminator({logits: [1, 2], labels: [1], mask: [1, 1]})).to.throw(/logits 2, labels 1 and mask 2/)
  })
})

describe('aucFromScores', () => {
  it('equals the brute-force pairwise AUC, ties included', () => {
    const r = Rng.derive(3, 'auc-test')
    for (let trial = 0; trial < 5; trial++) {
      // coarse scores so that many ties occur, within and across classes
      const pos = Array.from({length: 40 + trial * 7}, () => Math.round(r.normal() * 4 + 2) / 4)
      const neg = Array.from({length: 60 + trial * 11}, () => Math.round(r.normal() * 4) / 4)
      expect(aucFromScores({positives: Float32Array.from(pos), negatives: Float32Array.from(neg)})).to.be.closeTo(bruteAuc(pos, neg), 1e-12)
    }
  })

  it('gives 0.5 when every score is tied and 1 for a perfect ranking', () => {
    expect(aucFromScores({positives: Float32Array.from([1, 1]), negatives: Float32Array.from([1, 1, 1])})).to.equal(0.5)
    expect(aucFromScores({positives: Float32Array.from([3, 4]), negatives: Float32Array.from([1, 2])})).to.equal(1)
  })
})
