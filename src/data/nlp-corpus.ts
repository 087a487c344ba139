import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {ConfigError} from '../errors.js'

/**
 * The JSON files of an npm package that ships text. `nlp-corpus` stores 100k English
 * sentences as `builds/doc-<i>.json`, each a JSON array of strings (one sentence = one document).
 */
export function corpusPackageFiles(params: {name: string}): string[] {
  if (params.name !== 'nlp-corpus') {
    throw new ConfigError(`unknown text package "${params.name}"; supported: nlp-corpus.`, {
      code: 'data.package_unknown',
      suggestions: ['Use `source: {package: nlp-corpus}` or a `files:` source.'],
    })
  }
  const require = createRequire(import.meta.url)
  let entry: string
  try {
    entry = require.resolve(params.name)
  } catch (error) {
    throw new ConfigError(`npm package ${params.name} is not installed.`, {
      code: 'data.package_missing',
      cause: error,
      suggestions: [`Run \`npm install ${params.name}\`.`],
    })
  }
  // entry = <pkg>/src/server/index.js; the sentences are in <pkg>/builds
  const builds = path.resolve(path.dirname(entry), '../../builds')
  const files = fs
    .readdirSync(builds)
    .filter((f) => /^doc-\d+\.json$/.test(f))
    .sort((a, b) => Number(a.slice(4, -5)) - Number(b.slice(4, -5)))
  return files.map((f) => path.join(builds, f))
}
