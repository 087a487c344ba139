/**
 * The rtd CLI from source (no build needed): `node --import tsx test/helpers/rtd-dev.ts ...`.
 * It ignores oclif.manifest.json (which may be stale) and loads commands from src/ through
 * tsx. Only the commands listed in dev-commands.ts are loaded: without a manifest oclif
 * imports every command up front, and loading them all (with TensorFlow.js) makes each
 * test subprocess seconds slower. Add a command there to drive it from a CLI test.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {Config, flush, handle, Plugin, run} from '@oclif/core'

const root = path.resolve(fileURLToPath(import.meta.url), '../../..')
const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
pjson.oclif = {...pjson.oclif, commands: {strategy: 'explicit', target: './test/helpers/dev-commands.ts', identifier: 'commands'}}
try {
  const plugin = new Plugin({root, isRoot: true, ignoreManifest: true, pjson})
  await plugin.load()
  const config = await Config.load({root, plugins: new Map([[plugin.name, plugin]])})
  await run(process.argv.slice(2), config)
  await flush()
} catch (error) {
  await handle(error as Error)
}
