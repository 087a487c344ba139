/**
 * Builds the generator/discriminator pair of the pipeline's architecture (src/plugin/architecture.ts)
 * and hands it to the shared pretraining stage (src/pretrain). GDES keeps the RTD loss off the
 * generator's shared tables (stop-gradient) and the MLM loss off the discriminator's deltas; the
 * export merges each shared table = E_G + E_delta under its HF name.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {loadModelFolder} from '../../src/checkpoint/index.js'
import type {EmbeddingSharing} from '../../src/model/embedding-sharing.js'
import {RtdPair} from '../../src/model/rtd-pair.js'
import type {ArchitectureNetworks, GeneratorShape} from '../../src/plugin/architecture.js'
import type {RestoreContext, RestoredModel, RunState, Stage} from '../../src/plugin/contract.js'
import {RuntimeFailure} from '../../src/errors.js'
import {EMBEDDING_SHARING} from '../../src/model/embedding-sharing.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {
  checkMemory,
  defaultSaveName,
  exportRtdPair,
  resolveModelFolder,
  runPretraining,
  startModelStage,
  RtdTrainable,
  type MaskOptions,
  type PretrainModel,
  type ScheduleSection,
  type ScratchConfigOptions,
} from '../../src/pretrain/index.js'

export interface GdesOptions {
  from?: string
  generator_from?: string
  architecture: string
  config?: ScratchConfigOptions
  generator: GeneratorShape
  embedding_sharing: EmbeddingSharing
  temperature: number
  mask: MaskOptions
}

function gdesModel<C>(opts: {pair: RtdPair<C>; architecture: ArchitectureNetworks<C>; disc: C; gen: C; trainable: RtdTrainable; sharing: EmbeddingSharing}): PretrainModel {
  const {pair, architecture: a, disc, gen, trainable, sharing} = opts
  return {
    trainable,
    memory: {discriminator: a.configs.shape(disc), generator: a.configs.shape(gen), sharing},
    describe: () => ({plugin: 'gdes', architecture: a.name, embedding_sharing: sharing, discriminator: a.configs.toHf(disc), generator: a.configs.toHf(gen)}),
    exportTo: ({dir, tokenizerDir}) => exportRtdPair({pair, dir, tokenizerDir}),
    variables: () => pair.variables(),
    dispose: () => pair.dispose(),
  }
}

/** Load the starting weights named by `from` / `generator_from` into the pair. */
async function loadStartingWeights(opts: {pair: RtdPair; architecture: ArchitectureNetworks; options: GdesOptions; ctx: RunContext; discFolder?: ReturnType<typeof loadModelFolder>; generatorLayers: number}): Promise<void> {
  const {pair, architecture, options, ctx, discFolder} = opts
  let generator = discFolder && architecture.generatorTensorsFromDiscriminator ? architecture.generatorTensorsFromDiscriminator(discFolder.tensors, opts.generatorLayers) : undefined
  let generatorSource = `model.from ${options.from}`
  if (options.generator_from) {
    generatorSource = `model.generator_from ${options.generator_from}`
    const dir = await resolveModelFolder({from: options.generator_from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.generator_from'})
    const msGenerator = existsSync(join(dir, 'pytorch_model.generator.bin')) && existsSync(join(dir, 'generator_config.json'))
    generator = loadModelFolder(msGenerator ? {dir, weightsFile: 'pytorch_model.generator.bin', configFile: 'generator_config.json'} : {dir}).tensors
  }
  const notes = pair.loadTensors({generator, discriminator: discFolder?.tensors, warn: (m) => ctx.log.warn(m), sources: {generator: generatorSource, discriminator: `model.from ${options.from}`}})
  for (const n of notes) ctx.log.debug(n)
}

export function createGdesStage(options: GdesOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const started = await startModelStage({state, ctx, plugin: 'gdes', architecture: options.architecture, from: options.from, config: options.config})
      const {data, backend, checkpoint: discFolder, config: disc, recompute, networks} = started
      if (options.generator.width !== 1 && options.from) {
        ctx.log.warn('model.generator.width < 1 with `from`: the generator cannot take the discriminator\'s layers and starts from random weights')
      }
      const configs = started.architecture.configs
      const gen = configs.generator(disc, options.generator)
      const schedule = ctx.pipeline.schedule as ScheduleSection
      const sharing = options.embedding_sharing
      const memory = {discriminator: configs.shape(disc), generator: configs.shape(gen), sharing}
      checkMemory({memory, schedule, seqLen: data.maxLength, backend, ctx, maskRate: options.mask.rate, recompute})

      const pair = new RtdPair({architecture: networks, discriminator: disc, generator: gen, sharing, seed: ctx.seed, maskTokenId: data.tokenizer.special.mask, ...(recompute !== undefined ? {recompute} : {})})
      if (discFolder || options.generator_from) {
        const generatorLayers = configs.facts(gen).numHiddenLayers
        await loadStartingWeights({pair, architecture: networks, options, ctx, discFolder: options.generator.width === 1 ? discFolder : undefined, generatorLayers})
        if (discFolder && options.generator.width !== 1) pair.loadTensors({discriminator: discFolder.tensors, warn: (m) => ctx.log.warn(m), sources: {discriminator: `model.from ${options.from}`}})
      }
      const trainable = new RtdTrainable({pair, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: options.mask, temperature: options.temperature, seed: ctx.seed})
      const model = gdesModel({pair, architecture: networks, disc, gen, trainable, sharing})
      const saveName = (ctx.pipeline.output?.save_name as string | undefined) ?? defaultSaveName({from: options.from, pipelineName: String(ctx.pipeline.name), suffix: sharing})
      await runPretraining({model, data, ctx, state, saveName})
    },
  }
}

/** `rtd export`: the pair of a gdes run's model.json (architecture default deberta-v3 for records written before architectures existed). */
export async function restoreGdesModel(record: Record<string, unknown>, ctx: RestoreContext): Promise<RestoredModel> {
  const {discriminator, generator} = record
  if (typeof discriminator !== 'object' || discriminator === null || typeof generator !== 'object' || generator === null) {
    throw new RuntimeFailure(`${ctx.where} lacks the discriminator or generator config`, {code: 'export.model_json'})
  }
  const sharing = record.embedding_sharing as EmbeddingSharing
  if (!EMBEDDING_SHARING.includes(sharing)) throw new RuntimeFailure(`${ctx.where}: embedding_sharing ${JSON.stringify(sharing)} is not one of ${EMBEDDING_SHARING.join(', ')}`, {code: 'export.model_json'})
  const plugin = ctx.architecture(typeof record.architecture === 'string' ? record.architecture : 'deberta-v3')
  const networks = await plugin.load()
  const pair = new RtdPair({
    architecture: networks,
    discriminator: plugin.configs.parse(discriminator as Record<string, unknown>, `${ctx.where} discriminator`),
    generator: plugin.configs.parse(generator as Record<string, unknown>, `${ctx.where} generator`),
    sharing,
    seed: 0,
    maskTokenId: 0, // the export runs no forward pass
  })
  const named = (vars: ReturnType<RtdPair['variables']>) => new Map(vars.map((v) => [pair.hfName(v)!.name, v]))
  return {
    pair,
    parameterGroups: () => [
      {name: 'generator', variables: named(pair.generatorVariables())},
      {name: 'discriminator', variables: named(pair.discriminatorVariables())},
    ],
    exportTo: ({dir, tokenizerDir}) => exportRtdPair({pair, dir, tokenizerDir}),
    dispose: () => pair.dispose(),
  } as RestoredModel
}
