/**
 * Where a model stage's starting weights come from: a local folder, or a Hugging Face model id
 * fetched into the HF cache (src/hub: honours HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE).
 */
import {existsSync} from 'node:fs'
import {ConfigError} from '../errors.js'
import {checkHubModel, downloadRepoFiles} from '../hub/index.js'

/** Files of a DeBERTa model repo that rtd reads (configs, weights in any supported layout, generator). */
const MODEL_FILE = /^(config\.json|generator_config\.json|model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json|pytorch_model(-\d+-of-\d+)?\.bin|pytorch_model\.bin\.index\.json|pytorch_model\.generator\.bin)$/

/** A local folder for `from` (a path relative to the pipeline, or a hub model id). */
export async function resolveModelFolder(opts: {from: string; resolvePath: (p: string) => string; option: string}): Promise<string> {
  const local = opts.resolvePath(opts.from)
  if (existsSync(local)) return local
  if (!/^[\w.-]+\/[\w.-]+$/.test(opts.from)) {
    throw new ConfigError(`${opts.option}: ${opts.from} is neither an existing folder (looked at ${local}) nor a hub model id (owner/name)`, {
      code: 'model.source_missing',
      suggestions: ['Give a folder with config.json and model.safetensors or pytorch_model.bin, or a model id such as microsoft/deberta-v3-small.'],
    })
  }
  const got = await downloadRepoFiles({repo: opts.from, repoType: 'model', include: (f) => MODEL_FILE.test(f)})
  return got.snapshotDir
}

/** rtd run's pre-flight for `from`: a hub model id must be readable (HF_TOKEN) or, offline, cached. */
export async function preflightModelSource(opts: {from: string; resolvePath: (p: string) => string; option: string; pipelineFile: string}): Promise<void> {
  if (existsSync(opts.resolvePath(opts.from)) || !/^[\w.-]+\/[\w.-]+$/.test(opts.from)) return // a folder, or an error resolveModelFolder words
  await checkHubModel({file: opts.pipelineFile, option: opts.option, repo: opts.from, include: (f) => MODEL_FILE.test(f)})
}
