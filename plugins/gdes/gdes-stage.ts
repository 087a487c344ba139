/**
 * Builds the generator/discriminator pair from the plugin options and hands it to the shared
 * pretraining stage (src/pretrain). GDES keeps the RTD loss off E_G (stop-gradient) and the MLM
 * loss off E_delta; the export merges E_D = E_G + E_delta under the normal HF name.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {loadModelFolder} from '../../src/checkpoint/index.js'
import type {EmbeddingSharing} from '../../src/model/index.js'
import {RtdPair, toHfConfig, type DebertaConfig} from '../../src/model/index.js'
import type {RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {
  checkMemory,
  defaultSaveName,
  exportRtdPair,
  generatorConfig,
  generatorTensorsFromDiscriminator,
  resolveModelFolder,
  runPretraining,
  startModelStage,
  shapeOf,
  RtdTrainable,
  type GeneratorShape,
  type MaskOptions,
  type PretrainModel,
  type ScheduleSection,
  type ScratchConfigOptions,
} from '../../src/pretrain/index.js'

export interface GdesOptions {
  from?: string
  generator_from?: string
  config?: ScratchConfigOptions
  generator: GeneratorShape
  embedding_sharing: EmbeddingSharing
  temperature: number
  mask: MaskOptions
}

function gdesModel(opts: {pair: RtdPair; disc: DebertaConfig; gen: DebertaConfig; trainable: RtdTrainable; sharing: EmbeddingSharing}): PretrainModel {
  const {pair, disc, gen, trainable, sharing} = opts
  return {
    trainable,
    memory: {discriminator: shapeOf(disc), generator: shapeOf(gen), sharing},
    describe: () => ({plugin: 'gdes', embedding_sharing: sharing, discriminator: toHfConfig(disc), generator: toHfConfig(gen)}),
    exportTo: ({dir, tokenizerDir}) => exportRtdPair({pair, dir, tokenizerDir}),
    variables: () => pair.variables(),
    dispose: () => pair.dispose(),
  }
}

/** Load the starting weights named by `from` / `generator_from` into the pair. */
async function loadStartingWeights(opts: {pair: RtdPair; options: GdesOptions; ctx: RunContext; discFolder?: ReturnType<typeof loadModelFolder>; gen: DebertaConfig}): Promise<void> {
  const {pair, options, ctx, discFolder, gen} = opts
  let generator = discFolder ? generatorTensorsFromDiscriminator(discFolder.tensors, gen.numHiddenLayers) : undefined
  if (options.generator_from) {
    const dir = await resolveModelFolder({from: options.generator_from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.generator_from'})
    const msGenerator = existsSync(join(dir, 'pytorch_model.generator.bin')) && existsSync(join(dir, 'generator_config.json'))
    generator = loadModelFolder(msGenerator ? {dir, weightsFile: 'pytorch_model.generator.bin', configFile: 'generator_config.json'} : {dir}).tensors
  }
  const notes = pair.loadTensors({generator, discriminator: discFolder?.tensors})
  for (const n of notes) ctx.log.debug(n)
}

export function createGdesStage(options: GdesOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const {data, backend, checkpoint: discFolder, config: disc, recompute} = await startModelStage({state, ctx, plugin: 'gdes', from: options.from, config: options.config})
      if (options.generator.width !== 1 && options.from) {
        ctx.log.warn('model.generator.width < 1 with `from`: the generator cannot take the discriminator\'s layers and starts from random weights')
      }
      const gen = generatorConfig(disc, options.generator)
      const schedule = ctx.pipeline.schedule as ScheduleSection
      const sharing = options.embedding_sharing
      const memory = {discriminator: shapeOf(disc), generator: shapeOf(gen), sharing}
      checkMemory({memory, schedule, seqLen: data.maxLength, backend, ctx, maskRate: options.mask.rate, recompute})

      const pair = new RtdPair({discriminator: disc, generator: gen, sharing, seed: ctx.seed, maskTokenId: data.tokenizer.special.mask, ...(recompute !== undefined ? {recompute} : {})})
      if (discFolder || options.generator_from) {
        await loadStartingWeights({pair, options, ctx, discFolder: options.generator.width === 1 ? discFolder : undefined, gen})
        if (discFolder && options.generator.width !== 1) pair.loadTensors({discriminator: discFolder.tensors})
      }
      const trainable = new RtdTrainable({pair, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: options.mask, temperature: options.temperature, seed: ctx.seed})
      const model = gdesModel({pair, disc, gen, trainable, sharing})
      const saveName = (ctx.pipeline.output?.save_name as string | undefined) ?? defaultSaveName({from: options.from, pipelineName: String(ctx.pipeline.name), suffix: sharing})
      await runPretraining({model, data, ctx, state, saveName})
    },
  }
}
