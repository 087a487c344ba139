/** The commands test/helpers/rtd-dev.ts offers (oclif `explicit` command discovery). */
import Plugins from '../../src/commands/plugins.js'
import Run from '../../src/commands/run.js'
import Schema from '../../src/commands/schema.js'
import Validate from '../../src/commands/validate.js'

export const commands = {plugins: Plugins, run: Run, schema: Schema, validate: Validate}
