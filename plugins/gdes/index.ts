/** The `gdes` model plugin: DeBERTa-v3 RTD pretraining with GDES / ES / NES embedding sharing. */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import {checkModelSection} from '../../src/pretrain/index.js'
import schema from './schema.json' with {type: 'json'}
import {createGdesStage, type GdesOptions} from './gdes-stage.js'

export const plugin: RtdPlugin<GdesOptions> = {
  name: 'gdes',
  kind: 'model',
  summary: 'DeBERTa-v3 generator + discriminator trained with MLM + lambda * RTD, embedding sharing gdes | es | nes',
  schema,
  check: (options, pipeline) => checkModelSection({config: options.config, from: options.from, pipeline}),
  create: createGdesStage,
}

export default plugin
