/**
 * The built-in plugins pass the checks external ones get at load time (the registry trusts them
 * at start-up, see validate-plugin.ts), and the assembled pipeline schema is valid JSON Schema
 * 2020-12 (the pipeline validator compiles it without checking it again).
 */
import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'chai'

import {buildPipelineSchema} from '../../../src/pipeline/pipeline-schema.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import {validatePlugin} from '../../../src/plugin/validate-plugin.js'
import {builtinPlugins} from '../../../plugins/index.js'

describe('built-in plugins', () => {
  it('are valid plugins with valid JSON Schema 2020-12 option schemas', () => {
    expect(builtinPlugins.map((p) => `${p.kind}/${p.name}`)).to.include.members(['model/gdes', 'architecture/deberta-v3', 'architecture/electra'])
    for (const p of builtinPlugins) expect(() => validatePlugin({value: p, source: 'test'}), p.name).to.not.throw()
  })

  it('assemble into a valid pipeline schema', () => {
    const ajv = new Ajv2020({strict: false})
    ajv.addKeyword({keyword: 'x-rtd-message', schemaType: 'string'})
    const schema = buildPipelineSchema({registry: new PluginRegistry()})
    expect(ajv.validateSchema(schema), ajv.errorsText(ajv.errors)).to.equal(true)
  })
})
