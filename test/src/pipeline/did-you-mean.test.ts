import {expect} from 'chai'

import {didYouMean, editDistance} from '../../../src/pipeline/did-you-mean.js'

describe('editDistance', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('lr_shcedule', 'lr_schedule')).to.equal(1)
  })

  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('batchsize', 'batch_size')).to.equal(1)
    expect(editDistance('kitten', 'sitting')).to.equal(3)
    expect(editDistance('', 'abc')).to.equal(3)
  })
})

describe('didYouMean', () => {
  const keys = ['epochs', 'max_steps', 'batch_size', 'grad_accumulation', 'optimizer']

  it('suggests the closest key for a typo', () => {
    expect(didYouMean({input: 'batchsize', candidates: keys})).to.equal('batch_size')
    expect(didYouMean({input: 'epohcs', candidates: keys})).to.equal('epochs')
  })

  it('treats case and -/_ differences as near matches', () => {
    expect(didYouMean({input: 'batchSize', candidates: keys})).to.equal('batch_size')
    expect(didYouMean({input: 'max-steps', candidates: keys})).to.equal('max_steps')
  })

  it('suggests nothing when no candidate is close', () => {
    expect(didYouMean({input: 'tokenizer', candidates: keys})).to.equal(undefined)
    expect(didYouMean({input: 'x', candidates: []})).to.equal(undefined)
  })
})
