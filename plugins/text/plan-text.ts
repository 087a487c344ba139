/**
 * The text plugin's part of `rtd plan`: sequence length, and training sequences per epoch
 * estimated from the size of local files (or the text package) without reading them. Hub
 * datasets are not sized before download (`rtd data build` then gives the exact count).
 */
import * as fs from 'node:fs'
import {expandFiles} from '../../src/data/expand-files.js'
import {corpusPackageFiles} from '../../src/data/nlp-corpus.js'
import type {DataOptions} from '../../src/data/prepare-data.js'
import type {PlanIo, StagePlan} from '../../src/plugin/contract.js'

/** Bytes of English text per subword token (wordpiece/unigram vocabularies of 4k-128k pieces). */
const BYTES_PER_TOKEN = 4

export function planText(options: DataOptions, io: PlanIo): StagePlan {
  const maxLength = options.max_length
  const source = options.source as {files?: string | string[]; package?: string; hub?: string}
  let files: string[] | undefined
  if (source.files !== undefined) files = expandFiles({patterns: source.files, resolvePath: (p) => io.resolvePath(p)})
  else if (source.package !== undefined) files = corpusPackageFiles({name: source.package})
  if (files === undefined) {
    return {data: {maxLength, note: `hub dataset ${source.hub}: its size is known after download (\`rtd data build\` prints it)`}}
  }
  const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0)
  // packing fills windows of maxLength - 2 tokens ([CLS] and [SEP] added); the rest is held out
  const trainSequences = Math.max(1, Math.round((bytes / BYTES_PER_TOKEN / Math.max(1, maxLength - 2)) * (1 - options.eval_fraction)))
  return {data: {maxLength, trainSequences, estimated: true,
    note: `${files.length} file${files.length === 1 ? '' : 's'}, ${(bytes / 2 ** 20).toFixed(1)} MiB of text: about ${trainSequences} training sequences of ${maxLength} tokens (~${BYTES_PER_TOKEN} bytes per token)`}}
}
