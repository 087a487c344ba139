/** Builds one DeBERTa MLM model and hands it to the shared pretraining stage (src/pretrain). */
import {MlmModel, toHfConfig} from '../../src/model/index.js'
import type {RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {
  checkMemory,
  defaultSaveName,
  exportMlmModel,
  runPretraining,
  startModelStage,
  shapeOf,
  MlmTrainable,
  type MaskOptions,
  type PretrainModel,
  type ScheduleSection,
  type ScratchConfigOptions,
} from '../../src/pretrain/index.js'

export interface MlmOptions {
  from?: string
  config?: ScratchConfigOptions
  mask: MaskOptions
}

export function createMlmStage(options: MlmOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const {data, backend, checkpoint: loaded, config, recompute} = await startModelStage({state, ctx, plugin: 'mlm', from: options.from, config: options.config})
      // an MLM alone: the estimator's generator slot takes the whole model. The estimator needs a
      // discriminator of at least one layer (it refuses 0): the smallest one it accepts, sharing
      // the word table (es), so the estimate errs high by one layer and an RTD head.
      const memory = {discriminator: {...shapeOf(config), layers: 1}, generator: shapeOf(config), sharing: 'es' as const}
      checkMemory({memory, schedule: ctx.pipeline.schedule as ScheduleSection, seqLen: data.maxLength, backend, ctx, maskRate: options.mask.rate, recompute})
      const net = new MlmModel({config, seed: ctx.seed, role: 'model'})
      if (loaded) for (const n of net.loadTensors(loaded.tensors)) ctx.log.debug(n)
      const trainable = new MlmTrainable({model: net, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: options.mask, seed: ctx.seed, ...(recompute !== undefined ? {recompute} : {})})
      const model: PretrainModel = {
        trainable,
        memory,
        describe: () => ({plugin: 'mlm', model: toHfConfig(config)}),
        exportTo: ({dir, tokenizerDir}) => exportMlmModel({model: net, dir, tokenizerDir}),
        variables: () => net.variables(),
        dispose: () => net.dispose(),
      }
      const saveName = (ctx.pipeline.output?.save_name as string | undefined) ?? defaultSaveName({from: options.from, pipelineName: String(ctx.pipeline.name), suffix: 'mlm'})
      await runPretraining({model, data, ctx, state, saveName})
    },
  }
}
