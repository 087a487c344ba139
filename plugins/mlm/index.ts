/** The `mlm` model plugin: plain DeBERTa masked-language-model pretraining (the RTD baseline). */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import {checkModelSection} from '../../src/pretrain/index.js'
import schema from './schema.json' with {type: 'json'}
import {createMlmStage, type MlmOptions} from './mlm-stage.js'

export const plugin: RtdPlugin<MlmOptions> = {
  name: 'mlm',
  kind: 'model',
  summary: 'DeBERTa-v3 encoder + MLM head trained with masked-language modelling alone (baseline)',
  schema,
  check: (options, pipeline) => checkModelSection({config: options.config, from: options.from, pipeline}),
  create: createMlmStage,
}

export default plugin
