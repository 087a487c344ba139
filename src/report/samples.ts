/**
 * What the discriminator saw at an evaluation: a few held-out sequences with the generator's
 * replacements and the discriminator's replaced-probability per token. The evaluation stage
 * writes them to <run-dir>/samples.json; the report shades each token by its probability.
 */

export interface SampleToken {
  /** The original token's text. */
  o: string
  /** The token the discriminator read, when the generator replaced it (the sample differs from the original). */
  s?: string
  /** The position was masked for the generator (its sample may equal the original). */
  m?: 1
  /** The discriminator's probability that the token was replaced. */
  p: number
}

export interface DiscriminatorSamples {
  step: number
  /** Evaluation seed the masks and samples came from. */
  seed: number
  sequences: SampleToken[][]
}

export interface SampleRowsInput {
  /** [B·N] original ids, attention mask, generator mask, discriminator input, discriminator logits. */
  inputIds: ArrayLike<number>
  attentionMask: ArrayLike<number>
  mlmMask: ArrayLike<number>
  discInputIds: ArrayLike<number>
  logits: ArrayLike<number>
  batchSize: number
  seqLen: number
  /** How many rows to take. */
  rows: number
  idToToken: (id: number) => string | undefined
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4

/** The first `rows` rows of an eval batch as sample sequences (pads dropped). */
export function sampleRows(input: SampleRowsInput): SampleToken[][] {
  const {seqLen: N} = input
  const text = (id: number): string => input.idToToken(id) ?? `#${id}`
  const out: SampleToken[][] = []
  for (let b = 0; b < Math.min(input.rows, input.batchSize); b++) {
    const seq: SampleToken[] = []
    for (let j = 0; j < N; j++) {
      const k = b * N + j
      if (!input.attentionMask[k]) continue
      const t: SampleToken = {o: text(input.inputIds[k]), p: round4(sigmoid(input.logits[k]))}
      if (input.mlmMask[k]) t.m = 1
      if (input.discInputIds[k] !== input.inputIds[k]) t.s = text(input.discInputIds[k])
      seq.push(t)
    }
    out.push(seq)
  }
  return out
}
