import {expect} from 'chai'
import {maskBatch, type MaskRecipe} from '../../../src/data/masking.js'
import {Rng} from '../../../src/util/rng.js'

const special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
const VOCAB = 100

/** B rows of random lengths: [CLS] ids (some [UNK]) [SEP] then padding. */
function batch(B: number, N: number, seed: number) {
  const rng = Rng.derive(seed, 'test-batch')
  const inputIds = new Int32Array(B * N)
  const attentionMask = new Int32Array(B * N)
  for (let b = 0; b < B; b++) {
    const len = 3 + rng.int(N - 2)
    for (let j = 0; j < len; j++) {
      const id = j === 0 ? 1 : j === len - 1 ? 2 : rng.uniform() < 0.05 ? 3 : 5 + rng.int(VOCAB - 5)
      inputIds[b * N + j] = id
      attentionMask[b * N + j] = 1
    }
  }
  return {inputIds, attentionMask, batchSize: B, seqLen: N}
}

function run(recipe: MaskRecipe, seed = 1, B = 400, N = 64) {
  const b = batch(B, N, seed)
  return {b, m: maskBatch({...b, special, vocabSize: VOCAB, recipe, rate: 0.15, rng: Rng.derive(seed, 'mask', 0)})}
}

const isSpecial = (id: number) => id <= 4

describe('maskBatch', () => {
  it('selects max(1, round(0.15 * candidates)) tokens in every sequence', () => {
    const {b, m} = run('all-mask')
    for (let r = 0; r < b.batchSize; r++) {
      let cand = 0
      let sel = 0
      for (let j = 0; j < b.seqLen; j++) {
        const p = r * b.seqLen + j
        if (b.attentionMask[p] && !isSpecial(b.inputIds[p])) cand++
        sel += m.mlmMask[p]
      }
      expect(sel, `row ${r}`).to.equal(Math.min(cand, Math.max(1, Math.round(0.15 * cand))))
    }
  })

  it('masks no special tokens and no padding', () => {
    for (const recipe of ['all-mask', '80-10-10', 'electra'] as const) {
      const {b, m} = run(recipe)
      const bad: number[] = []
      for (let p = 0; p < b.inputIds.length; p++) {
        if ((isSpecial(b.inputIds[p]) || !b.attentionMask[p]) && (m.mlmMask[p] !== 0 || m.maskedIds[p] !== b.inputIds[p])) bad.push(p)
      }
      expect(bad, recipe).to.deep.equal([])
    }
  })

  it('keeps unselected tokens and labels selected ones with the original id', () => {
    const {b, m} = run('80-10-10')
    const bad: number[] = []
    for (let p = 0; p < b.inputIds.length; p++) {
      const ok = m.mlmMask[p] ? m.labels[p] === b.inputIds[p] : m.labels[p] === 0 && m.maskedIds[p] === b.inputIds[p]
      if (!ok) bad.push(p)
    }
    expect(bad).to.deep.equal([])
  })

  it('turns every selected token into [MASK] with all-mask', () => {
    const {m} = run('all-mask')
    for (let p = 0; p < m.mlmMask.length; p++) if (m.mlmMask[p]) expect(m.maskedIds[p]).to.equal(special.mask)
  })

  it('follows the 80-10-10 and electra proportions, never drawing special ids as replacements', () => {
    for (const [recipe, pMask, pRandom] of [
      ['80-10-10', 0.8, 0.1],
      ['electra', 0.85, 0],
    ] as const) {
      let sel = 0
      let masked = 0
      let random = 0
      for (let seed = 1; seed <= 3; seed++) {
        const {b, m} = run(recipe, seed)
        for (let p = 0; p < m.mlmMask.length; p++) {
          if (!m.mlmMask[p]) continue
          sel++
          if (m.maskedIds[p] === special.mask) masked++
          else if (m.maskedIds[p] !== b.inputIds[p]) {
            random++
            expect(isSpecial(m.maskedIds[p])).to.equal(false)
          }
        }
      }
      // ~5000 selections: 4 standard deviations of a binomial proportion is < 0.025
      expect(masked / sel, recipe).to.be.closeTo(pMask, 0.025)
      // a random draw can equal the original (1/95), so allow a little below 0.1
      expect(random / sel, recipe).to.be.closeTo(pRandom, 0.025)
    }
  })

  it('selects about 15% of candidates overall and spreads picks over positions', () => {
    const {b, m} = run('all-mask', 5, 400, 128)
    let cand = 0
    let sel = 0
    let late = 0
    for (let p = 0; p < b.inputIds.length; p++) {
      if (b.attentionMask[p] && !isSpecial(b.inputIds[p])) cand++
      sel += m.mlmMask[p]
      if (m.mlmMask[p] && p % 128 >= 100) late++
    }
    expect(sel / cand).to.be.closeTo(0.15, 0.01)
    expect(late).to.be.greaterThan(0)
  })

  it('gives the same masks for the same (seed, step) and different ones for another step', () => {
    const b = batch(8, 32, 9)
    const a = maskBatch({...b, special, vocabSize: VOCAB, rng: Rng.derive(1, 'mask', 3)})
    const a2 = maskBatch({...b, special, vocabSize: VOCAB, rng: Rng.derive(1, 'mask', 3)})
    const c = maskBatch({...b, special, vocabSize: VOCAB, rng: Rng.derive(1, 'mask', 4)})
    expect([...a.mlmMask]).to.deep.equal([...a2.mlmMask])
    expect([...a.mlmMask]).to.not.deep.equal([...c.mlmMask])
  })

  it('leaves an all-pad row and a [CLS][SEP]-only row untouched, and masks the single token of a one-token row', () => {
    const N = 4
    const inputIds = Int32Array.from([0, 0, 0, 0, 1, 2, 0, 0, 1, 50, 2, 0])
    const attentionMask = Int32Array.from([0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0])
    const m = maskBatch({inputIds, attentionMask, batchSize: 3, seqLen: N, special, vocabSize: VOCAB, rng: Rng.derive(0, 'mask', 0)})
    expect([...m.mlmMask]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    expect(m.maskedIds[9]).to.equal(4)
  })
})
