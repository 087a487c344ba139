/** The commands test/helpers/rtd-dev.ts offers (oclif `explicit` command discovery). */
import Bench from '../../src/commands/bench.js'
import DataBuild from '../../src/commands/data/build.js'
import Diff from '../../src/commands/diff.js'
import Export from '../../src/commands/export.js'
import Plan from '../../src/commands/plan.js'
import Plugins from '../../src/commands/plugins.js'
import Report from '../../src/commands/report.js'
import Run from '../../src/commands/run.js'
import Schema from '../../src/commands/schema.js'
import Validate from '../../src/commands/validate.js'
import Verify from '../../src/commands/verify.js'

export const commands = {bench: Bench, 'data:build': DataBuild, diff: Diff, export: Export, plan: Plan, plugins: Plugins, report: Report, run: Run, schema: Schema, validate: Validate, verify: Verify}
