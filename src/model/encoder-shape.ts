/** The shape of a DeBERTa config that runtime/memory-estimate.ts needs. */
import type {EncoderShape} from '../runtime/memory-estimate.js'
import {relativeSpan, type DebertaConfig} from './config.js'

export function encoderShapeOf(c: DebertaConfig): EncoderShape {
  return {
    vocab: c.vocabSize,
    hidden: c.hiddenSize,
    layers: c.numHiddenLayers,
    heads: c.numAttentionHeads,
    intermediate: c.intermediateSize,
    embeddingSize: c.embeddingSize,
    positionBuckets: c.relativeAttention ? relativeSpan(c) : 0,
    absolutePositions: c.positionBiasedInput ? c.maxPositionEmbeddings : 0,
  }
}
