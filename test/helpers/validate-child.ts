/**
 * What `rtd validate`, `rtd plugins` and `rtd schema` do, in a child process that
 * test/src/plugin/lazy-plugins.test.ts watches with record-loads.mjs: import the three
 * commands, load and validate a pipeline (built-in plugins and checks included), build the
 * schema and describe every plugin.
 */
import {loadPipeline} from '../../src/pipeline/load-pipeline.js'
import {orderPipeline} from '../../src/pipeline/order-pipeline.js'
import {buildPipelineSchema} from '../../src/pipeline/pipeline-schema.js'
import {describePlugins} from '../../src/plugin/describe-plugins.js'

await import('../../src/commands/validate.js')
await import('../../src/commands/plugins.js')
await import('../../src/commands/schema.js')
const file = process.argv[2]
const resolved = await loadPipeline({file, cwd: process.cwd()})
orderPipeline({value: resolved.value, registry: resolved.registry})
buildPipelineSchema({registry: resolved.registry})
const plugins = describePlugins({registry: resolved.registry})
process.stdout.write(JSON.stringify({valid: resolved.value.name, plugins: plugins.map((p) => `${p.kind}/${p.name}`)}))
