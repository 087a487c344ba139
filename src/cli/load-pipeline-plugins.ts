import * as path from 'node:path'

import {RtdError} from '../errors.js'
import {PluginRegistry} from '../plugin/registry.js'
import {isPlainObject} from '../pipeline/deep-merge.js'
import {PipelineInvalid} from '../pipeline/pipeline-issue.js'
import {displayPath, resolveExtends} from '../pipeline/resolve-extends.js'
import {locate} from '../pipeline/origins.js'

/**
 * A registry with the built-ins plus the plugins a pipeline names under `plugins:` (with
 * its extends bases), without validating the rest of the pipeline: for `rtd plugins` and
 * `rtd schema --pipeline`.
 */
export async function registryForPipeline(params: {file?: string; cwd?: string; env?: Record<string, string | undefined>}): Promise<PluginRegistry> {
  const registry = new PluginRegistry()
  if (params.file === undefined) return registry
  const cwd = params.cwd ?? process.cwd()
  const file = path.resolve(cwd, params.file)
  const merged = resolveExtends({file, env: params.env ?? process.env, cwd})
  const fatal = merged.issues.filter((i) => i.code === 'yaml.syntax' || i.code.startsWith('extends.'))
  if (fatal.length > 0) throw new PipelineInvalid({file: displayPath(file, cwd), issues: fatal})
  const value = merged.value
  if (!isPlainObject(value) || !Array.isArray(value.plugins)) return registry
  const fileOf = new Map(merged.files.map((f) => [displayPath(f.file, cwd), f.file]))
  for (const [i, spec] of value.plugins.entries()) {
    if (typeof spec !== 'string') continue
    const origin = locate(merged.origins, ['plugins', i])
    const baseDir = origin?.kind === 'file' && fileOf.has(origin.file) ? path.dirname(fileOf.get(origin.file)!) : path.dirname(file)
    try {
      await registry.load({specifier: spec, baseDir})
    } catch (error) {
      if (error instanceof RtdError) {
        throw new PipelineInvalid({file: displayPath(file, cwd), issues: [{code: 'plugin.load', path: `plugins[${i}]`, message: error.message, origin}]})
      }
      throw error
    }
  }
  return registry
}
