import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** Repo root, found from this file (test/src/tokenizer/). */
export const REPO_ROOT = path.resolve(fileURLToPath(import.meta.url), '../../../..')
export const SPM_FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/tokenizer')

/** The first `count` nlp-corpus sentences (the corpus ships as builds/doc-N.json arrays). */
export function corpusSentences(count: number): string[] {
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const file = path.join(REPO_ROOT, 'node_modules/nlp-corpus/builds', `doc-${i}.json`)
    out.push(...(JSON.parse(fs.readFileSync(file, 'utf8')) as string[]))
  }
  return out.slice(0, count)
}
