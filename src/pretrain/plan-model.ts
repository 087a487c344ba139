/**
 * The model half of `rtd plan` (RtdPlugin.plan) for the pretraining plugins: the encoder shapes
 * of the networks a training step runs, from config.json or the scratch config alone, through
 * the architecture plugin's pure config functions (parse, fromScratch, generator, shape). No
 * weights, no tensors.
 */
import {ConfigError} from '../errors.js'
import type {ArchitecturePlugin, GeneratorShape} from '../plugin/architecture.js'
import type {PlanIo, StagePlan} from '../plugin/contract.js'
import type {EncoderShape} from '../runtime/memory-estimate.js'
import {modelConfig, type ScratchConfigOptions} from './build-models.js'

/** The tokenizer's vocabulary as the data section sets it, when it can be known without data. */
async function tokenizerVocab(pipeline: Record<string, any>, io: PlanIo): Promise<number | undefined> {
  const tok = pipeline['data']?.tokenizer as {from?: string; train?: {vocab_size?: number}} | undefined
  if (tok?.train?.vocab_size !== undefined) return tok.train.vocab_size
  if (tok?.from !== undefined) {
    const json = await io.readModelConfig(tok.from, 'data.tokenizer.from').catch(() => undefined)
    const v = json?.['vocab_size']
    return typeof v === 'number' ? v : undefined
  }
  return undefined
}

const describe = (s: EncoderShape) => `hidden ${s.hidden}, ${s.heads} heads, FFN ${s.intermediate}, vocab ${s.vocab}`

export async function planPretrainModel(opts: {
  architecture: ArchitecturePlugin
  from?: string
  config?: ScratchConfigOptions
  /** Absent: an MLM alone (no discriminator). */
  generator?: GeneratorShape
  sharing: 'gdes' | 'es' | 'nes'
  maskRate: number
  pipeline: Record<string, any>
  io: PlanIo
}): Promise<StagePlan> {
  const {io, architecture} = opts
  const configs = architecture.configs
  let disc: unknown
  if (opts.from !== undefined) {
    disc = modelConfig({architecture, folderConfig: await io.readModelConfig(opts.from, 'model.from'), folder: opts.from, tokenizerVocabSize: 0})
  } else if (opts.config !== undefined) {
    const vocab = (opts.config as {vocab_size?: number}).vocab_size ?? (await tokenizerVocab(opts.pipeline, io))
    if (vocab === undefined) throw new ConfigError('model.config: no vocab_size, and the tokenizer\'s size is not known before it is built', {code: 'plan.vocab_unknown', suggestions: ['set model.config.vocab_size']})
    disc = modelConfig({architecture, scratch: opts.config, tokenizerVocabSize: vocab})
  } else {
    throw new ConfigError('model: give either `from` (a checkpoint) or `config` (train from scratch)', {code: 'model.no_source'})
  }
  const source = opts.from ?? 'a scratch config'
  const d = configs.shape(disc)
  if (opts.generator === undefined) {
    // MLM alone: the estimator's generator slot takes the whole model (the mlm stage's memory check does the same)
    // and runtime.workers does not apply (maybe-parallel.ts splits RTD pairs only)
    return {model: {discriminator: {...d, layers: 1}, generator: d, sharing: 'es', maskRate: opts.maskRate, dataParallel: false, summary: `${architecture.name} MLM from ${source}: ${d.layers} layers, ${describe(d)}`}}
  }
  const g = configs.shape(configs.generator(disc, opts.generator))
  return {model: {discriminator: d, generator: g, sharing: opts.sharing, maskRate: opts.maskRate,
    summary: `${architecture.name} ${opts.sharing.toUpperCase()} pair from ${source}: discriminator ${d.layers} layers, generator ${g.layers}, ${describe(d)}`}}
}
