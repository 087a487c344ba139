/**
 * Load an external plugin module named in a pipeline's `plugins:` list: a path relative to
 * the pipeline file (`./my-plugin.js`) or an npm package name resolved from the pipeline's
 * folder. External plugins ship JavaScript (.js/.mjs); a .ts file loads only when rtd itself
 * runs under tsx (as the tests do).
 */
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'

import {ConfigError} from '../errors.js'
import type {AnyPlugin} from './contract.js'
import {validatePlugin} from './validate-plugin.js'

export function isPathSpecifier(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || path.isAbsolute(spec) || spec === '.' || spec === '..'
}

/** Absolute file of the module `spec` names, resolved from `baseDir`. */
export function resolvePluginModule(params: {specifier: string; baseDir: string}): string {
  const {specifier, baseDir} = params
  if (isPathSpecifier(specifier)) {
    const file = path.resolve(baseDir, specifier)
    if (!fs.existsSync(file)) {
      throw new ConfigError(`plugin module ${specifier} not found (looked for ${file}; paths are relative to the pipeline file)`, {code: 'plugin.not_found'})
    }
    // a plugin package's folder (with its package.json): its entry point
    if (fs.statSync(file).isDirectory()) {
      if (!fs.existsSync(path.join(file, 'package.json'))) throw new ConfigError(`plugin module ${specifier} is a folder without package.json (${file})`, {code: 'plugin.not_found', suggestions: ['Name the module file, or give the folder a package.json with "exports" or "main".']})
      return packageEntry(file)
    }
    return file
  }
  try {
    return createRequire(path.join(baseDir, 'noop.js')).resolve(specifier)
  } catch {
    // ESM-only packages have no `require` export condition: read package.json ourselves.
    const file = resolveEsmPackage({name: specifier, baseDir})
    if (file !== undefined) return file
    throw new ConfigError(`plugin package \`${specifier}\` not found from ${baseDir}`, {
      code: 'plugin.not_found',
      suggestions: [`Install it next to the pipeline (npm install ${specifier}) or name a file with a ./relative path.`],
    })
  }
}

function resolveEsmPackage(p: {name: string; baseDir: string}): string | undefined {
  const parts = p.name.split('/')
  const pkgName = p.name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
  const sub = parts.slice(p.name.startsWith('@') ? 2 : 1).join('/')
  for (let dir = p.baseDir; ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, 'node_modules', pkgName)
    const pj = path.join(pkgDir, 'package.json')
    if (fs.existsSync(pj)) {
      if (sub !== '') return path.join(pkgDir, sub)
      return packageEntry(pkgDir)
    }
    if (path.dirname(dir) === dir) return undefined
  }
}

/** The ESM entry file of the package in `pkgDir` (package.json `exports` '.', `module`, `main`, or index.js). */
function packageEntry(pkgDir: string): string {
  const json = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as Record<string, any>
  const exp = json.exports
  const dot = typeof exp === 'string' ? exp : exp?.['.'] ?? exp
  const entry = typeof dot === 'string' ? dot : dot?.import ?? dot?.default ?? json.module ?? json.main ?? 'index.js'
  return path.join(pkgDir, typeof entry === 'string' ? entry : 'index.js')
}

/** Import the module and return the plugins it exports (default, `plugin`, or `plugins`). */
export async function loadPluginModule(params: {specifier: string; baseDir: string}): Promise<{file: string; plugins: AnyPlugin[]}> {
  const file = resolvePluginModule(params)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const tsHint = e.code === 'ERR_UNKNOWN_FILE_EXTENSION' ? ['External plugins ship JavaScript (.js/.mjs); .ts loads only when rtd runs under tsx.'] : []
    throw new ConfigError(`could not load plugin module ${params.specifier} (${file}): ${e.message}`, {code: 'plugin.load', suggestions: tsHint, cause: error})
  }
  const found: unknown[] = []
  if (Array.isArray(mod.plugins)) found.push(...mod.plugins)
  if (mod.plugin !== undefined) found.push(mod.plugin)
  if (mod.default !== undefined) {
    if (Array.isArray(mod.default)) found.push(...mod.default)
    else found.push(mod.default)
  }
  if (found.length === 0) {
    throw new ConfigError(`plugin module ${params.specifier} (${file}) exports no plugin`, {
      code: 'plugin.invalid',
      suggestions: ['Export the plugin as `export default {name, kind, summary, schema, create}`, or as `plugin`, or a `plugins` array.'],
    })
  }
  const unique = [...new Set(found)]
  return {file, plugins: unique.map((value) => validatePlugin({value, source: params.specifier}))}
}
