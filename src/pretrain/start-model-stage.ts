/**
 * What every pretraining model stage does first: take the data stage's output, find the
 * architecture (model.architecture, through the registry), start the backend, find the
 * starting checkpoint (`from`: folder or hub id) and the model config, check that the tokenizer
 * fits it (SPEC A.10), and read runtime.recompute.
 */
import {loadModelFolder, type LoadedModelFolder} from '../checkpoint/index.js'
import type {PreparedData} from '../data/prepared-data.js'
import type {Recompute} from '../model/nn.js'
import type {ArchitectureNetworks, ArchitecturePlugin} from '../plugin/architecture.js'
import type {RunState} from '../plugin/contract.js'
import type {RunContext} from '../plugin/run-context.js'
import {modelConfig, tokenizerFitsModel, type ScratchConfigOptions} from './build-models.js'
import {resolveModelFolder} from './model-source.js'
import {initRuntime, recomputeOption, requirePreparedData} from './pretrain-stage.js'

export interface StartedModelStage<C = any> {
  data: PreparedData
  /** The tfjs backend now active. */
  backend: string
  /** model.architecture's plugin (configs) and its loaded networks. */
  architecture: ArchitecturePlugin<C>
  networks: ArchitectureNetworks<C>
  /** The `from` checkpoint, read. */
  checkpoint?: LoadedModelFolder
  /** The (discriminator's) model config: from the checkpoint's config.json or from `config:`. */
  config: C
  /** runtime.recompute; undefined = the model's auto rule. */
  recompute?: Recompute
}

export async function startModelStage(opts: {state: RunState; ctx: RunContext; plugin: string; architecture: string; from?: string; config?: ScratchConfigOptions}): Promise<StartedModelStage> {
  const {state, ctx} = opts
  const data = requirePreparedData(state, opts.plugin)
  const architecture = ctx.architecture(opts.architecture)
  const backend = await initRuntime(ctx)
  const networks = await architecture.load()
  const folder = opts.from ? await resolveModelFolder({from: opts.from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.from'}) : undefined
  const checkpoint = folder ? loadModelFolder({dir: folder}) : undefined
  const config = modelConfig({architecture, scratch: opts.config, folderConfig: checkpoint?.config, folder, tokenizerVocabSize: data.tokenizer.vocabSize})
  tokenizerFitsModel({facts: architecture.configs.facts(config), data})
  const recompute = recomputeOption(ctx)
  return {data, backend, architecture, networks, config, ...(checkpoint ? {checkpoint} : {}), ...(recompute !== undefined ? {recompute} : {})}
}
