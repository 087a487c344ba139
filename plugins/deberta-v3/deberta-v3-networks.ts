/** The deberta-v3 architecture's networks: today's DeBERTa model code (src/model) behind the contract. */
import type {ArchitectureNetworks, HostTensorLike} from '../../src/plugin/architecture.js'
import {maxRelativePositions, relativeSpan, type DebertaConfig} from '../../src/model/config.js'
import {DebertaEncoder} from '../../src/model/deberta-encoder.js'
import {Discriminator} from '../../src/model/discriminator.js'
import {MlmModel} from '../../src/model/mlm-model.js'
import type {ModelFault} from '../../src/model/nn.js'
import {relativeAttentionIndex, relativePositionBuckets} from '../../src/model/relative-position.js'
import {debertaV3Configs} from './deberta-v3-configs.js'

/**
 * Generator weights for a pair built `from` a discriminator checkpoint: the discriminator's
 * embeddings and first layers, without its RTD head and GDES deltas.
 */
export function generatorTensorsFromDiscriminator(disc: Map<string, HostTensorLike>, generatorLayers: number): Map<string, HostTensorLike> {
  const out = new Map<string, HostTensorLike>()
  for (const [k, v] of disc) {
    if (k.startsWith('mask_predictions.') || k.endsWith('._weight')) continue
    const m = /^(?:deberta\.)?encoder\.layer\.(\d+)\./.exec(k)
    if (m && Number(m[1]) >= generatorLayers) continue
    out.set(k, v)
  }
  return out
}

/**
 * The relative-position tensors of a reference dump (fixtures/deberta-tiny): each model's
 * rel-embedding table after its LayerNorm, and the discriminator's log buckets and attention
 * index at this sequence length.
 */
export async function referenceTensors(opts: {generator: MlmModel; discriminator: Discriminator; seqLen: number; faults?: readonly ModelFault[]}): Promise<Map<string, HostTensorLike>> {
  const out = new Map<string, HostTensorLike>()
  for (const [name, model] of [['disc.rel_table', opts.discriminator], ['gen.rel_table', opts.generator]] as const) {
    const t = model.deberta.encoder.relTable()
    if (t === undefined) continue
    // async: webgpu cannot read synchronously in Node
    try {
      out.set(name, {shape: [...t.shape], data: (await t.data()) as Float32Array})
    } finally {
      t.dispose()
    }
  }
  const c = opts.discriminator.config
  const buckets = {seqLen: opts.seqLen, bucketSize: c.positionBuckets, maxPosition: maxRelativePositions(c), offByOne: opts.faults?.includes('bucket-off-by-one')}
  out.set('log_bucket', {shape: [2 * opts.seqLen - 1], data: relativePositionBuckets(buckets)})
  out.set('rel_att_index', {shape: [opts.seqLen, opts.seqLen], data: relativeAttentionIndex({...buckets, span: relativeSpan(c)})})
  return out
}

export const architecture: ArchitectureNetworks<DebertaConfig, MlmModel, Discriminator> = {
  name: 'deberta-v3',
  module: import.meta.url,
  configs: debertaV3Configs,
  hfArchitectures: {encoder: 'DebertaV2Model', maskedLm: 'DebertaV2ForMaskedLM'},
  // transformers reads `lm_predictions.lm_head.*` (Microsoft's names, ours) only with legacy=False;
  // with its default legacy=True DebertaV2ForMaskedLM would silently start a random `cls.*` head.
  maskedLmConfigExtras: {legacy: false},
  createEncoder: (opts) => new DebertaEncoder(opts),
  createMaskedLm: (opts) => new MlmModel(opts),
  createDiscriminator: (opts) => new Discriminator(opts),
  generatorTensorsFromDiscriminator,
  referenceTensors,
}
