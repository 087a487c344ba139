import {expect} from 'chai'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

import {buildPipelineSchema} from '../../../src/pipeline/pipeline-schema.js'
import {writePrecompiledValidator} from '../../../src/pipeline/precompile-validator.js'
import {loadPrecompiledValidator, pipelineAjv} from '../../../src/pipeline/validate-pipeline.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const pipeline = (name: string) => parse(readFileSync(path.join(root, 'pipelines', name), 'utf8')) as Record<string, any>

/** Valid pipelines and ones that break the schema in different ways (unknown keys, enums, types, oneOf forms, architecture dispatch). */
function samples(): Record<string, any>[] {
  const gdes = pipeline('tiny-gdes.yaml')
  // tiny-electra extends tiny-gdes: merged by hand, one level deep
  const own = pipeline('tiny-electra.yaml')
  const electra: Record<string, any> = {...gdes}
  for (const [k, v] of Object.entries(own)) if (k !== 'extends') electra[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? {...gdes[k], ...v} : v
  return [
    gdes,
    electra,
    {},
    {...gdes, bogus: 1, name: '!bad'},
    {...gdes, runtime: {backend: 'tpu', threads: 0}},
    {...gdes, model: {...gdes.model, config: {...gdes.model?.config, hidden_size: 'wide', bogus_key: 1}}},
    {...electra, model: {...electra.model, architecture: 'deberta-v3'}},
    {...gdes, data: 5, evaluation: {plugin: 7}},
  ]
}

describe('precompile-validator', function () {
  // compiling the pipeline schema twice is a few seconds on a shared machine
  this.timeout(120_000)
  let tmp: string
  before(() => {
    // inside the package: the generated code requires ajv's runtime helpers from node_modules
    const cache = path.join(root, 'node_modules', '.cache')
    mkdirSync(cache, {recursive: true})
    tmp = mkdtempSync(path.join(cache, 'rtd-precompiled-'))
  })
  after(() => rmSync(tmp, {recursive: true, force: true}))

  it('generates a validator that gives the same verdict, defaults and errors as compiling at run time', () => {
    const registry = new PluginRegistry()
    const file = writePrecompiledValidator({registry, dir: tmp})
    const schema = buildPipelineSchema({registry})
    const pre = loadPrecompiledValidator({file, schema})
    expect(pre, 'the precompiled validator matches the built-ins schema').to.be.a('function')
    const runtime = pipelineAjv().compile(schema)
    let invalid = 0
    for (const sample of samples()) {
      const a = structuredClone(sample)
      const b = structuredClone(sample)
      const okPre = pre!(a)
      const okRuntime = runtime(b)
      expect(okPre).to.equal(okRuntime)
      expect(a, 'defaults filled in').to.deep.equal(b)
      expect(pre!.errors ?? null).to.deep.equal(runtime.errors ?? null)
      if (!okRuntime) invalid++
    }
    expect(runtime(structuredClone(samples()[0])), 'tiny-gdes.yaml is valid').to.equal(true)
    expect(invalid).to.be.at.least(samples().length - 2)
  })

  it('is not used for a schema it was not generated from (a pipeline with external plugins)', () => {
    const registry = new PluginRegistry()
    const file = writePrecompiledValidator({registry, dir: tmp})
    registry.register({plugin: {...registry.architecture('electra'), name: 'my-electra'}, source: 'test'})
    expect(loadPrecompiledValidator({file, schema: buildPipelineSchema({registry})})).to.equal(undefined)
    expect(loadPrecompiledValidator({file: path.join(tmp, 'absent.cjs'), schema: {}})).to.equal(undefined)
  })
})
