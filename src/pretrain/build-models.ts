/**
 * The model stage's config, whatever the architecture (src/plugin/architecture.ts): from a
 * Hugging Face checkpoint's config.json (`from`) or from the pipeline's `model.config`, checked
 * against the tokenizer (SPEC A.10).
 */
import {ConfigError} from '../errors.js'
import {checkTokenizerFitsModel} from '../data/check-tokenizer-fit.js'
import type {PreparedData} from '../data/prepared-data.js'
import type {ArchitecturePlugin, ConfigFacts} from '../plugin/architecture.js'

export {checkModelSection} from './check-model-section.js'

/** `config:` of a model plugin: the architecture's scratch config (its schema, HF config.json names). */
export type ScratchConfigOptions = Record<string, unknown>
export type {GeneratorShape} from '../plugin/architecture.js'

/** The (discriminator's) config: from the checkpoint folder's config.json or from `config:`. */
export function modelConfig<C>(opts: {architecture: ArchitecturePlugin<C>; scratch?: ScratchConfigOptions; folderConfig?: Record<string, unknown>; folder?: string; tokenizerVocabSize: number}): C {
  const {architecture: arch} = opts
  if (opts.folderConfig) {
    const type = opts.folderConfig.model_type
    if (typeof type === 'string' && !arch.modelTypes.includes(type)) {
      throw new ConfigError(`${opts.folder}/config.json is a \`${type}\` checkpoint, but model.architecture is \`${arch.name}\` (it reads ${arch.modelTypes.join(', ')})`, {
        code: 'model.architecture_mismatch',
        suggestions: ['Set model.architecture to the architecture of the checkpoint (`rtd plugins --kind architecture` lists them).'],
      })
    }
    return arch.configs.parse(opts.folderConfig, `${opts.folder}/config.json`)
  }
  if (!opts.scratch) throw new ConfigError('model: give either `from` (a checkpoint) or `config` (train from scratch)', {code: 'model.no_source'})
  return arch.configs.fromScratch(opts.scratch, opts.tokenizerVocabSize)
}

/** SPEC A.10 before any step: the tokenizer's ids and the data's length fit the model. */
export function tokenizerFitsModel(opts: {facts: ConfigFacts; data: PreparedData}): void {
  const {facts, data} = opts
  checkTokenizerFitsModel({
    tokenizerVocabSize: data.tokenizer.vocabSize,
    special: data.tokenizer.special,
    modelVocabSize: facts.vocabSize,
    maxLength: data.maxLength,
    maxPositions: facts.maxPositions,
    padTokenId: facts.padTokenId,
  })
}
