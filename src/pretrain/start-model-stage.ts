/**
 * What every pretraining model stage does first: take the data stage's output, start the
 * backend, find the starting checkpoint (`from`: folder or hub id) and the model config, check
 * that the tokenizer fits it (SPEC A.10), and read runtime.recompute.
 */
import {loadModelFolder, type LoadedModelFolder} from '../checkpoint/index.js'
import type {PreparedData} from '../data/prepared-data.js'
import type {DebertaConfig} from '../model/index.js'
import type {Recompute} from '../model/nn.js'
import type {RunState} from '../plugin/contract.js'
import type {RunContext} from '../plugin/run-context.js'
import {discriminatorConfig, tokenizerFitsModel, type ScratchConfigOptions} from './build-models.js'
import {resolveModelFolder} from './model-source.js'
import {initRuntime, recomputeOption, requirePreparedData} from './pretrain-stage.js'

export interface StartedModelStage {
  data: PreparedData
  /** The tfjs backend now active. */
  backend: string
  /** The `from` checkpoint, read. */
  checkpoint?: LoadedModelFolder
  /** The (discriminator's) model config: from the checkpoint's config.json or from `config:`. */
  config: DebertaConfig
  /** runtime.recompute; undefined = the model's auto rule. */
  recompute?: Recompute
}

export async function startModelStage(opts: {state: RunState; ctx: RunContext; plugin: string; from?: string; config?: ScratchConfigOptions}): Promise<StartedModelStage> {
  const {state, ctx} = opts
  const data = requirePreparedData(state, opts.plugin)
  const backend = await initRuntime(ctx)
  const folder = opts.from ? await resolveModelFolder({from: opts.from, resolvePath: (p) => ctx.resolvePath(p), option: 'model.from'}) : undefined
  const checkpoint = folder ? loadModelFolder({dir: folder}) : undefined
  const config = discriminatorConfig({scratch: opts.config, folderConfig: checkpoint?.config, folder, tokenizerVocabSize: data.tokenizer.vocabSize})
  tokenizerFitsModel({config, data})
  const recompute = recomputeOption(ctx)
  return {data, backend, config, ...(checkpoint ? {checkpoint} : {}), ...(recompute !== undefined ? {recompute} : {})}
}
