import * as path from 'node:path'

import {expect} from 'chai'

import {repoRoot, runCli} from '../helpers/run-cli.js'

describe('rtd plugins', () => {
  it('lists the external plugins of a pipeline with their options from the schema', async () => {
    const r = await runCli({args: ['plugins', '--pipeline', path.join(repoRoot, 'test/fixtures/pipelines/valid.yaml'), '--json']})
    expect(r.code, r.stderr).to.equal(0)
    const infos = JSON.parse(r.stdout) as {name: string; kind: string; source: string; options: unknown[]}[]
    const external = infos.filter((p) => p.source !== 'built-in')
    expect(external.map((p) => `${p.kind}/${p.name}`)).to.deep.equal(['data/line-count', 'model/counter', 'evaluation/line-stats'])
    expect(external[0].options).to.deep.equal([
      {name: 'file', type: 'string', required: true, description: 'Text file, relative to the pipeline.'},
      {name: 'min_length', type: 'integer', required: false, default: 1, description: 'Drop lines shorter than this.'},
    ])
  })
})
