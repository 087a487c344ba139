/**
 * The `electra` architecture plugin: ELECTRA's BERT-style encoder (src/model/electra), exported
 * with the names of Hugging Face `ElectraForPreTraining` (discriminator) and
 * `ElectraForMaskedLM` (generator). Under GDES/ES the word, position and token-type tables are
 * shared, each with its own zero-init delta under GDES. The networks load lazily.
 */
import type {ArchitectureNetworks, ArchitecturePlugin} from '../../src/plugin/architecture.js'
import type {ElectraConfig} from '../../src/model/electra/config.js'
import schema from './schema.json' with {type: 'json'}
import {checkElectraConfig, electraConfigs} from './electra-configs.js'

export const plugin: ArchitecturePlugin<ElectraConfig> = {
  name: 'electra',
  kind: 'architecture',
  summary: 'ELECTRA encoder (absolute positions, token types, embedding projection, post-LN); HF model_type electra',
  schema,
  modelTypes: ['electra'],
  configs: electraConfigs,
  check: checkElectraConfig,
  load: async (): Promise<ArchitectureNetworks<ElectraConfig>> => (await import('./electra-networks.js')).architecture,
}

export default plugin
