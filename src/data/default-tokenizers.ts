/**
 * The data stage's TokenizerProvider backed by src/tokenizer: a folder (or file) with
 * tokenizer.json / spm.model, or a hub model id whose tokenizer files are fetched through
 * src/hub; trained tokenizers come from src/tokenizer's trainer.
 */
import * as fs from 'node:fs'
import {ConfigError} from '../errors.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import type {DownloadRepoFiles} from './hub-dataset.js'
import type {TokenizerProvider} from './prepare-data.js'
import type {TokenizerLike, TokenizerType} from './prepared-data.js'

/** Files a model repo may hold its tokenizer in (HF and DeBERTa-v3 layouts). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'spm.model']

type TrainTokenizer = (params: {texts: string[]; type: TokenizerType; vocabSize: number; minFrequency?: number; lowercase?: boolean}) => TokenizerLike | Promise<TokenizerLike>

export function defaultTokenizers(params: {resolvePath: (p: string) => string; download?: DownloadRepoFiles}): TokenizerProvider {
  return {
    async load({from}) {
      const local = params.resolvePath(from)
      if (fs.existsSync(local)) return loadTokenizer({path: local})
      if (!/^[\w.-]+\/[\w.-]+$/.test(from) || !params.download) {
        throw new ConfigError(`tokenizer.from: ${from} is neither an existing folder (looked at ${local}) nor a hub model id (owner/name).`, {
          code: 'data.tokenizer_missing',
          suggestions: ['Give a folder with tokenizer.json or spm.model, or a model id such as microsoft/deberta-v3-small.'],
        })
      }
      const got = await params.download({repo: from, repoType: 'model', include: TOKENIZER_FILES})
      return loadTokenizer({path: got.snapshotDir})
    },
    async train(opts) {
      const train = await importTrainer()
      return train(opts)
    },
  }
}

/** src/tokenizer's trainer, looked up at run time (it is optional in partial builds). */
async function importTrainer(): Promise<TrainTokenizer> {
  for (const spec of ['../tokenizer/train-tokenizer.js', '../tokenizer/index.js']) {
    try {
      const mod = (await import(spec)) as {trainTokenizer?: TrainTokenizer}
      if (typeof mod.trainTokenizer === 'function') return mod.trainTokenizer
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
    }
  }
  throw new ConfigError('training a tokenizer is not available in this build (src/tokenizer has no trainTokenizer).', {
    code: 'data.tokenizer_training_unavailable',
    suggestions: ['Use `tokenizer: {from: <model id or folder>}` instead.'],
  })
}

/** src/hub's downloadRepoFiles, looked up at run time (hub sources and hub tokenizers need it). */
export async function importHubDownloader(): Promise<DownloadRepoFiles | undefined> {
  for (const spec of ['../hub/download-repo-files.js', '../hub/index.js']) {
    try {
      const mod = (await import(spec)) as {downloadRepoFiles?: DownloadRepoFiles}
      if (typeof mod.downloadRepoFiles === 'function') return mod.downloadRepoFiles
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
    }
  }
  return undefined
}
