import {expect} from 'chai'
import {assertTensorNames, documentedExtras, matchTensorNames} from '../../../src/checkpoint/match-tensor-names.js'
import {RuntimeFailure} from '../../../src/errors.js'

const got = (o: Record<string, number[]>) => new Map(Object.entries(o).map(([k, shape]) => [k, {shape}]))

describe('checkpoint/match-tensor-names', () => {
  const expected = new Map<string, number[]>([
    ['deberta.embeddings.word_embeddings.weight', [10, 4]],
    ['deberta.encoder.rel_embeddings.weight', [8, 4]],
    ['deberta.embeddings.LayerNorm.weight', [4]],
  ])

  it('reports missing, unexpected and wrongly shaped tensors', () => {
    const m = matchTensorNames({
      expected,
      got: got({'deberta.embeddings.word_embeddings.weight': [10, 4], 'deberta.encoder.rel_embeddings.weight': [4, 8], 'foo.bar': [1]}),
    })
    expect(m.missing).to.deep.equal(['deberta.embeddings.LayerNorm.weight'])
    expect(m.unexpected).to.deep.equal(['foo.bar'])
    expect(m.mismatched).to.deep.equal([{name: 'deberta.encoder.rel_embeddings.weight', expected: [8, 4], got: [4, 8]}])
  })

  it("tolerates the documented extras of Microsoft's discriminator files", () => {
    const extras = documentedExtras({positionBiasedInput: false, role: 'discriminator'})
    const m = matchTensorNames({
      expected,
      got: got({
        ...Object.fromEntries([...expected].map(([k, v]) => [k, v])),
        'deberta.embeddings.position_embeddings.weight': [512, 4],
        'deberta.embeddings.word_embeddings._weight': [10, 4],
        'lm_predictions.lm_head.bias': [10],
        'mask_predictions.classifier.weight': [1, 4],
      }),
      allowedExtras: extras,
    })
    expect(m.unexpected).to.deep.equal([])
    expect(m.ignored).to.have.length(4)
  })

  it('does not excuse position_embeddings.weight when position_biased_input is true, nor lm_predictions for a generator', () => {
    const extras = documentedExtras({positionBiasedInput: true, role: 'generator'})
    const m = matchTensorNames({expected, got: got({...Object.fromEntries(expected), 'deberta.embeddings.position_embeddings.weight': [512, 4], 'lm_predictions.lm_head.bias': [10]}), allowedExtras: extras})
    expect(m.unexpected).to.deep.equal(['deberta.embeddings.position_embeddings.weight', 'lm_predictions.lm_head.bias'])
  })

  it('throws one error listing every problem by name', () => {
    expect(() => assertTensorNames({expected, got: got({'deberta.embeddings.word_embeddings.weight': [9, 4], extra: [1]}), source: 'ckpt/model.safetensors'}))
      .to.throw(RuntimeFailure)
      .that.satisfies((e: RuntimeFailure) =>
        e.code === 'checkpoint.tensor_mismatch' &&
        e.message.includes('ckpt/model.safetensors') &&
        e.message.includes('deberta.encoder.rel_embeddings.weight') &&
        e.message.includes('extra') &&
        e.message.includes('expected [10,4] got [9,4]'),
      )
  })
})
