/**
 * Wrote golden-shards.json with the data stage as it was before streaming (commit 9ba3138's
 * prepare-data.ts: whole corpus in memory, one thread). Kept to show how the golden was made;
 * rerunning it with today's code only proves the code agrees with itself.
 *
 *   npx tsx test/src/data/golden/make-golden-shards.ts
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {defaultTokenizers} from '../../../../src/data/default-tokenizers.js'
import {prepareData} from '../../../../src/data/prepare-data.js'
import type {Logger} from '../../../../src/plugin/run-context.js'
import {GOLDEN_CASES, writeGoldenCorpus} from './golden-cases.js'

export async function buildGoldenSummaries(params: {dir: string; workers?: number; cacheDir?: string; log?: Logger; chunkBytes?: number}): Promise<Record<string, unknown>> {
  const {dir} = params
  const out: Record<string, unknown> = {}
  for (const c of GOLDEN_CASES) {
    const resolvePath = (p: string) => path.resolve(dir, p)
    const options = params.workers === undefined ? c.options : {...c.options, workers: params.workers}
    const d = await prepareData({options, seed: c.seed, cacheDir: params.cacheDir ?? path.join(dir, 'cache'), resolvePath, tokenizers: defaultTokenizers({resolvePath}), log: params.log, chunkBytes: params.chunkBytes})
    const split = (s: typeof d.manifest.train | null) =>
      s && {documents: s.documents, sequences: s.sequences, tokens: s.tokens, shards: s.shards.map((e) => ({file: e.file, rows: e.rows, tokens: e.tokens, sha256: e.sha256}))}
    out[c.name] = {key: d.manifest.key, tokenizerFingerprint: d.manifest.tokenizerFingerprint, train: split(d.manifest.train), eval: split(d.manifest.eval)}
  }
  return out
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-golden-'))
  try {
    writeGoldenCorpus(dir)
    const out = await buildGoldenSummaries({dir})
    fs.writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden-shards.json'), JSON.stringify(out, null, 1) + '\n')
    console.log(Object.keys(out).join(', '))
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
}
