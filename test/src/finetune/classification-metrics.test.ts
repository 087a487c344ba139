import {expect} from 'chai'
import {argmaxRows, classificationMetrics, meanAndSpread} from '../../../src/finetune/classification-metrics.js'

describe('classification metrics', () => {
  it('computes accuracy and macro-F1 as scikit-learn does (classes in truth or predictions)', () => {
    // truth 0 0 0 1 1 2, predicted 0 0 1 1 2 2
    // class 0: tp 2, true 3, pred 2 -> F1 4/5; class 1: tp 1, true 2, pred 2 -> 1/2; class 2: tp 1, true 1, pred 2 -> 2/3
    const m = classificationMetrics({truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 2], numClasses: 4})
    expect(m.accuracy).to.be.closeTo(4 / 6, 1e-12)
    expect(m.macro_f1).to.be.closeTo((4 / 5 + 1 / 2 + 2 / 3) / 3, 1e-12)
    expect(m.count).to.equal(6)
  })

  it('gives a constant predictor of the majority class a macro-F1 below its accuracy', () => {
    const m = classificationMetrics({truth: [0, 0, 0, 1], predicted: [0, 0, 0, 0], numClasses: 2})
    expect(m.accuracy).to.equal(0.75)
    expect(m.macro_f1).to.be.closeTo((6 / 7 + 0) / 2, 1e-12)
  })

  it('rejects class indices outside the task', () => {
    expect(() => classificationMetrics({truth: [0, 2], predicted: [0, 1], numClasses: 2})).to.throw(/out of range/)
  })

  it('reports mean and sample standard deviation over seeds', () => {
    const s = meanAndSpread([0.8, 0.9, 1.0])
    expect(s.mean).to.be.closeTo(0.9, 1e-12)
    expect(s.std).to.be.closeTo(0.1, 1e-12)
    expect(meanAndSpread([0.5]).std).to.equal(0)
  })

  it('takes the first of tied logits as the prediction', () => {
    expect([...argmaxRows([1, 3, 2, 5, 5, 0], 3)]).to.deep.equal([1, 0])
  })
})
