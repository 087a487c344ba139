/** Builds one masked-language model of the pipeline's architecture and hands it to the shared pretraining stage (src/pretrain). */
import type {RestoreContext, RestoredModel, RunState, Stage} from '../../src/plugin/contract.js'
import {RuntimeFailure} from '../../src/errors.js'
import {addFreshHeads, freshHeadsWarning} from '../../src/model/fresh-heads.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {
  checkMemory,
  defaultSaveName,
  exportMlmModel,
  runPretraining,
  startModelStage,
  MlmTrainable,
  type MaskOptions,
  type PretrainModel,
  type ScheduleSection,
  type ScratchConfigOptions,
} from '../../src/pretrain/index.js'

export interface MlmOptions {
  from?: string
  architecture: string
  config?: ScratchConfigOptions
  mask: MaskOptions
}

export function createMlmStage(options: MlmOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const started = await startModelStage({state, ctx, plugin: 'mlm', architecture: options.architecture, from: options.from, config: options.config})
      const {data, backend, checkpoint: loaded, config, recompute, networks} = started
      const configs = started.architecture.configs
      // an MLM alone: the estimator's generator slot takes the whole model. The estimator needs a
      // discriminator of at least one layer (it refuses 0): the smallest one it accepts, sharing
      // the word table (es), so the estimate errs high by one layer and an RTD head.
      const memory = {discriminator: {...configs.shape(config), layers: 1}, generator: configs.shape(config), sharing: 'es' as const}
      checkMemory({memory, schedule: ctx.pipeline.schedule as ScheduleSection, seqLen: data.maxLength, backend, ctx, maskRate: options.mask.rate, recompute})
      const net = networks.createMaskedLm({config, seed: ctx.seed, role: 'model'})
      if (loaded) {
        // a discriminator export has no MLM head: it starts fresh, with a warning naming it
        const {tensors, fresh} = addFreshHeads({params: net.params, tensors: loaded.tensors})
        if (fresh.length > 0) ctx.log.warn(freshHeadsWarning({role: 'model', source: `model.from ${options.from}`, fresh}))
        for (const n of net.loadTensors(tensors)) ctx.log.debug(n)
      }
      const trainable = new MlmTrainable({model: net, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: options.mask, seed: ctx.seed, ...(recompute !== undefined ? {recompute} : {})})
      const model: PretrainModel = {
        trainable,
        memory,
        describe: () => ({plugin: 'mlm', architecture: networks.name, model: configs.toHf(config)}),
        exportTo: ({dir, tokenizerDir}) => exportMlmModel({model: net, architecture: networks, dir, tokenizerDir}),
        variables: () => net.variables(),
        dispose: () => net.dispose(),
      }
      const saveName = (ctx.pipeline.output?.save_name as string | undefined) ?? defaultSaveName({from: options.from, pipelineName: String(ctx.pipeline.name), suffix: 'mlm'})
      await runPretraining({model, data, ctx, state, saveName})
    },
  }
}

/** `rtd export`: the model of an mlm run's model.json (architecture default deberta-v3 for older records). */
export async function restoreMlmModel(record: Record<string, unknown>, ctx: RestoreContext): Promise<RestoredModel> {
  if (typeof record.model !== 'object' || record.model === null) throw new RuntimeFailure(`${ctx.where} lacks the model config`, {code: 'export.model_json'})
  const plugin = ctx.architecture(typeof record.architecture === 'string' ? record.architecture : 'deberta-v3')
  const networks = await plugin.load()
  const net = networks.createMaskedLm({config: plugin.configs.parse(record.model as Record<string, unknown>, `${ctx.where} model`), seed: 0, role: 'model'})
  return {
    model: net,
    parameterGroups: () => [{name: 'model', variables: new Map(net.variables().map((v) => [net.params.nameOf(v.name)!, v]))}],
    exportTo: ({dir, tokenizerDir}) => exportMlmModel({model: net, architecture: networks, dir, tokenizerDir}),
    dispose: () => net.dispose(),
  } as RestoredModel
}
