/** rtd run's pre-flight of the text stage: the hub dataset and a hub tokenizer are readable (HF_TOKEN) or, offline, cached. */
import {existsSync} from 'node:fs'
import {TOKENIZER_FILES} from '../../src/data/default-tokenizers.js'
import {checkHubDatasetSplit, checkHubModel} from '../../src/hub/index.js'
import type {PreflightContext} from '../../src/plugin/contract.js'
import type {TextOptions} from './text-stage.js'

export async function preflightText(options: TextOptions, ctx: PreflightContext): Promise<void> {
  const source = options.source as {hub?: string; config?: string; split?: string; revision?: string}
  if (source.hub !== undefined) {
    await checkHubDatasetSplit({file: ctx.pipelineFile, option: 'data.source.hub', repo: source.hub, split: source.split ?? 'train', ...(source.config ? {config: source.config} : {}), ...(source.revision ? {revision: source.revision} : {})})
  }
  const from = (options.tokenizer as {from?: string} | undefined)?.from
  if (from !== undefined && !existsSync(ctx.resolvePath(from)) && /^[\w.-]+\/[\w.-]+$/.test(from)) {
    await checkHubModel({file: ctx.pipelineFile, option: 'data.tokenizer.from', repo: from, include: (f) => TOKENIZER_FILES.includes(f)})
  }
}
