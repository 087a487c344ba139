/**
 * Runs after `tsc` (npm run build): writes schemas/pipeline.schema.json (with the built-in
 * plugins' options; shared fragments inlined, so each file stands alone for editors), the
 * precompiled pipeline validator in dist/ (so `rtd validate` does not compile the schema at
 * start-up) and oclif.manifest.json (so the CLI starts without scanning commands).
 */
import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {PluginRegistry} from '../plugin/registry.js'
import {packageRoot} from '../pipeline/environment-record.js'
import {buildPipelineSchema} from '../pipeline/pipeline-schema.js'
import {writePrecompiledValidator} from '../pipeline/precompile-validator.js'
import {inlineFragments, SHARED_FRAGMENTS} from '../pipeline/shared-fragments.js'

const root = packageRoot()
const registry = new PluginRegistry()
const schemaFile = path.join(root, 'schemas', 'pipeline.schema.json')
fs.mkdirSync(path.dirname(schemaFile), {recursive: true})
const pipelineSchema = inlineFragments(buildPipelineSchema({registry})) as {$defs: Record<string, {$id?: string}>}
for (const [k, d] of Object.entries(pipelineSchema.$defs)) if (d.$id !== undefined && SHARED_FRAGMENTS.has(d.$id)) delete pipelineSchema.$defs[k]
fs.writeFileSync(schemaFile, `${JSON.stringify(pipelineSchema, null, 2)}\n`)
console.log(`postbuild: wrote ${path.relative(root, schemaFile)}`)

// next to dist/src/pipeline/validate-pipeline.js, which loads it
const validatorFile = writePrecompiledValidator({registry, dir: path.join(root, 'dist', 'src', 'pipeline')})
console.log(`postbuild: wrote ${path.relative(root, validatorFile)}`)

// Each built-in plugin's section on its own (its options, as plugins/<name>/schema.json declares them).
const pluginDir = path.join(root, 'schemas', 'plugins')
fs.mkdirSync(pluginDir, {recursive: true})
for (const {plugin} of registry.list()) {
  const file = path.join(pluginDir, `${plugin.kind}-${plugin.name}.schema.json`)
  const section = {$schema: 'https://json-schema.org/draft/2020-12/schema', title: `${plugin.kind} plugin ${plugin.name}`, description: plugin.summary, ...inlineFragments(plugin.schema)}
  fs.writeFileSync(file, `${JSON.stringify(section, null, 2)}\n`)
}
console.log(`postbuild: wrote ${path.relative(root, pluginDir)}/<kind>-<name>.schema.json`)

// The oclif dev package is absent in production installs; the manifest is then optional.
const oclifBin = path.join(root, 'node_modules', 'oclif', 'bin', 'run.js')
if (fs.existsSync(oclifBin)) {
  // No version check: builds run offline.
  const env = {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
  execFileSync(process.execPath, [oclifBin, 'manifest'], {cwd: root, env, stdio: ['ignore', 'ignore', 'inherit']})
  console.log('postbuild: wrote oclif.manifest.json')
} else {
  console.log('postbuild: oclif (dev dependency) not installed; skipped oclif.manifest.json')
}
