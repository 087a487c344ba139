/**
 * The `deberta-v3` architecture plugin (the default of `model.architecture`): DeBERTa-v2/v3
 * encoders (src/model) with relative attention, the `lm_predictions.lm_head` MLM head and the
 * `mask_predictions` RTD head, under Hugging Face's `deberta-v2` names. The networks load
 * lazily (deberta-v3-networks.ts pulls TensorFlow.js).
 */
import type {ArchitectureNetworks, ArchitecturePlugin} from '../../src/plugin/architecture.js'
import type {DebertaConfig} from '../../src/model/config.js'
import schema from './schema.json' with {type: 'json'}
import {checkDebertaConfig, debertaV3Configs} from './deberta-v3-configs.js'

export const plugin: ArchitecturePlugin<DebertaConfig> = {
  name: 'deberta-v3',
  kind: 'architecture',
  summary: 'DeBERTa-v3 encoder (disentangled relative attention, log position buckets); HF model_type deberta-v2',
  schema,
  modelTypes: ['deberta-v2'],
  configs: debertaV3Configs,
  check: checkDebertaConfig,
  load: async (): Promise<ArchitectureNetworks<DebertaConfig>> => (await import('./deberta-v3-networks.js')).architecture,
}

export default plugin
