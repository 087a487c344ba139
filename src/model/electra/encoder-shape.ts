/** The shape of an ELECTRA config that runtime/memory-estimate.ts needs (like ../encoder-shape.ts). */
import type {EncoderShape} from '../../runtime/memory-estimate.js'
import type {ElectraConfig} from './config.js'

export function electraEncoderShape(c: ElectraConfig): EncoderShape {
  return {
    vocab: c.vocabSize,
    hidden: c.hiddenSize,
    layers: c.numHiddenLayers,
    heads: c.numAttentionHeads,
    intermediate: c.intermediateSize,
    embeddingSize: c.embeddingSize,
    positionBuckets: 0, // no relative attention
    absolutePositions: c.maxPositionEmbeddings,
  }
}
