/**
 * The `gdes` model plugin: RTD pretraining of a generator/discriminator pair of any architecture
 * (model.architecture, default deberta-v3) with GDES / ES / NES embedding sharing. The
 * implementation (and TensorFlow.js) loads only when a stage is created.
 */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import {checkModelSection} from '../../src/pretrain/check-model-section.js'
import schema from './schema.json' with {type: 'json'}
import type {GdesOptions} from './gdes-stage.js'

export const plugin: RtdPlugin<GdesOptions> = {
  name: 'gdes',
  kind: 'model',
  summary: 'Generator + discriminator (DeBERTa-v3 or another architecture) trained with MLM + lambda * RTD, embedding sharing gdes | es | nes',
  schema,
  check: (options) => checkModelSection({config: options.config, from: options.from}),
  plan: async (options, pipeline, io) => (await import('../../src/pretrain/plan-model.js')).planPretrainModel({architecture: io.architecture(options.architecture),
    from: options.from, config: options.config, generator: options.generator, sharing: options.embedding_sharing, maskRate: options.mask.rate, pipeline, io}),
  create: async (options, ctx) => (await import('./gdes-stage.js')).createGdesStage(options, ctx),
  preflight: async (options, ctx) => {
    const {preflightModelSource} = await import('../../src/pretrain/model-source.js')
    if (options.from) await preflightModelSource({from: options.from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.from', pipelineFile: ctx.pipelineFile})
    if (options.generator_from) await preflightModelSource({from: options.generator_from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.generator_from', pipelineFile: ctx.pipelineFile})
  },
  restore: async (record, ctx) => (await import('./gdes-stage.js')).restoreGdesModel(record, ctx),
}

export default plugin
