/** The deberta-v3 architecture's networks: today's DeBERTa model code (src/model) behind the contract. */
import type {ArchitectureNetworks, HostTensorLike} from '../../src/plugin/architecture.js'
import type {DebertaConfig} from '../../src/model/config.js'
import {DebertaEncoder} from '../../src/model/deberta-encoder.js'
import {Discriminator} from '../../src/model/discriminator.js'
import {MlmModel} from '../../src/model/mlm-model.js'
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
}
