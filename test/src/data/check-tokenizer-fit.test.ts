import {expect} from 'chai'
import {checkTokenizerFitsModel} from '../../../src/data/check-tokenizer-fit.js'
import {ConfigError} from '../../../src/errors.js'

const v3 = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 128000}

describe('checkTokenizerFitsModel', () => {
  it('accepts the DeBERTa-v3 tokenizer (128001 ids) with the v3 model (vocab 128100)', () => {
    expect(() => checkTokenizerFitsModel({tokenizerVocabSize: 128001, special: v3, modelVocabSize: 128100, maxLength: 512, maxPositions: 512})).to.not.throw()
  })

  it('rejects a vocab smaller than the tokenizer and reports every problem at once', () => {
    let err: unknown
    try {
      checkTokenizerFitsModel({tokenizerVocabSize: 128001, special: v3, modelVocabSize: 30000, maxLength: 1024, maxPositions: 512, padTokenId: 1})
    } catch (error) {
      err = error
    }
    expect(err).to.be.instanceOf(ConfigError)
    const m = (err as Error).message
    expect(m).to.contain('128001 ids').and.contain('[MASK] id 128000').and.contain('pad_token_id is 1').and.contain('max_length 1024')
  })
})
