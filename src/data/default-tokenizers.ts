/**
 * The data stage's TokenizerProvider backed by src/tokenizer: a folder (or file) with
 * tokenizer.json / spm.model, or a hub model id whose tokenizer files are fetched through
 * src/hub; trained tokenizers come from src/tokenizer's trainer.
 */
import * as fs from 'node:fs'
import {ConfigError} from '../errors.js'
import {downloadRepoFiles} from '../hub/index.js'
import {loadTokenizer, trainTokenizer} from '../tokenizer/index.js'
import type {HubOptions} from './hub-dataset.js'
import type {TokenizerProvider} from './prepare-data.js'

/** Files a model repo may keep its tokenizer in (HF and DeBERTa-v3 layouts). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'spm.model']

export function defaultTokenizers(params: {resolvePath: (p: string) => string; hub?: HubOptions}): TokenizerProvider {
  return {
    async load({from}) {
      const local = params.resolvePath(from)
      if (fs.existsSync(local)) return loadTokenizer({path: local})
      if (!/^[\w.-]+\/[\w.-]+$/.test(from)) {
        throw new ConfigError(`tokenizer.from: ${from} is neither an existing folder (looked at ${local}) nor a hub model id (owner/name).`, {
          code: 'data.tokenizer_missing',
          suggestions: ['Give a folder with tokenizer.json or spm.model, or a model id such as microsoft/deberta-v3-small.'],
        })
      }
      const got = await downloadRepoFiles({...params.hub, repo: from, repoType: 'model', include: (f) => TOKENIZER_FILES.includes(f)})
      return loadTokenizer({path: got.snapshotDir})
    },
    async train(opts) {
      return trainTokenizer(opts)
    },
  }
}
