/** The `mlm` model plugin: plain masked-language-model pretraining (the RTD baseline) of any architecture (default deberta-v3). */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import {checkModelSection} from '../../src/pretrain/check-model-section.js'
import schema from './schema.json' with {type: 'json'}
import type {MlmOptions} from './mlm-stage.js'

export const plugin: RtdPlugin<MlmOptions> = {
  name: 'mlm',
  kind: 'model',
  summary: 'Encoder + MLM head (DeBERTa-v3 or another architecture) trained with masked-language modelling alone (baseline)',
  schema,
  check: (options) => checkModelSection({config: options.config, from: options.from}),
  plan: async (options, pipeline, io) => (await import('../../src/pretrain/plan-model.js')).planPretrainModel({architecture: io.architecture(options.architecture),
    from: options.from, config: options.config, sharing: 'es', maskRate: options.mask.rate, pipeline, io}),
  create: async (options, ctx) => (await import('./mlm-stage.js')).createMlmStage(options, ctx),
  preflight: async (options, ctx) => {
    const {preflightModelSource} = await import('../../src/pretrain/model-source.js')
    if (options.from) await preflightModelSource({from: options.from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.from', pipelineFile: ctx.pipelineFile})
  },
  restore: async (record, ctx) => (await import('./mlm-stage.js')).restoreMlmModel(record, ctx),
}

export default plugin
