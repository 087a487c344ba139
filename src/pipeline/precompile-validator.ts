/**
 * Build-time code generation of the pipeline validator (ajv standalone): `npm run build` writes
 * the validator of the built-in plugins' schema next to validate-pipeline.js in dist/, so that
 * `rtd validate` does not compile the schema at every start. The file carries the hash of the
 * schema it was generated from; validate-pipeline.ts uses it only for that schema.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import standalone from 'ajv/dist/standalone/index.js'

import type {PluginRegistry} from '../plugin/registry.js'
import {buildPipelineSchema} from './pipeline-schema.js'
import {pipelineAjv, pipelineSchemaHash, PRECOMPILED_VALIDATOR} from './validate-pipeline.js'

/** Writes `dir/pipeline-validator.generated.cjs` for this registry's schema; returns its path. */
export function writePrecompiledValidator(params: {registry: PluginRegistry; dir: string}): string {
  const schema = buildPipelineSchema({registry: params.registry})
  const ajv = pipelineAjv({source: true})
  // the CommonJS module is the function, with itself as .default (what the types see)
  const code = standalone.default(ajv, ajv.compile(schema))
  const file = path.join(params.dir, PRECOMPILED_VALIDATOR)
  fs.mkdirSync(params.dir, {recursive: true})
  fs.writeFileSync(file, `${code}\nmodule.exports.schemaHash = ${JSON.stringify(pipelineSchemaHash(schema))};\n`)
  return file
}
