import * as path from 'node:path'

import {expect} from 'chai'

import {repoRoot, runCli} from '../helpers/run-cli.js'

describe('rtd schema', () => {
  it('prints the merged JSON Schema including a pipeline\'s plugin fragments', async () => {
    const r = await runCli({args: ['schema', '--pipeline', path.join(repoRoot, 'test/fixtures/pipelines/valid.yaml')]})
    expect(r.code, r.stderr).to.equal(0)
    const schema = JSON.parse(r.stdout)
    expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema')
    expect(schema.properties.data.properties.plugin.enum).to.include('line-count')
    expect(schema.$defs['model.counter'].properties.steps).to.deep.equal({type: 'integer', minimum: 1, default: 3, description: 'Steps to count.'})
  })
})
