import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {expandSweep, loadSweep, sweepInvalid} from '../../../src/pipeline/expand-sweep.js'
import {formatIssue, PipelineInvalid} from '../../../src/pipeline/pipeline-issue.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import {emptyOriginMap} from '../../../src/pipeline/origins.js'
import {sweepDirsNewestFirst} from '../../../src/pipeline/run-sweep.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const fx = path.join(root, 'test/fixtures/pipelines')

describe('expandSweep', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-sweep-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  /** A pipeline extending the fixture valid.yaml with this sweep section (YAML text). */
  const write = (sweep: string): string => {
    const file = path.join(tmp, 'p.yaml')
    fs.writeFileSync(file, `extends: ${path.join(fx, 'valid.yaml')}\nname: swept\nsweep:\n${sweep}`)
    return file
  }
  const load = (file: string, overrides: string[] = []) => loadSweep({file, overrides, cwd: tmp, env: {}, cpuCount: 4, registry: new PluginRegistry({builtins: []})})

  it('gives the product of several keys, first key slowest, named by value', () => {
    const {variants, issues} = expandSweep({sweep: {'model.plugin': ['a', 'b'], 'loss.lambda': [10, 50, 1e-3]}, origins: emptyOriginMap()})
    expect(issues).to.deep.equal([])
    expect(variants.map((v) => v.name)).to.deep.equal(['plugin-a_lambda-10', 'plugin-a_lambda-50', 'plugin-a_lambda-0.001', 'plugin-b_lambda-10', 'plugin-b_lambda-50', 'plugin-b_lambda-0.001'])
    expect(variants[5].overrides).to.deep.equal(['model.plugin=b', 'loss.lambda=0.001'])
    const one = expandSweep({sweep: {'model.embedding_sharing': ['gdes', 'es', 'nes']}, origins: emptyOriginMap()})
    expect(one.variants.map((v) => [v.name, v.overrides])).to.deep.equal([
      ['gdes', ['model.embedding_sharing=gdes']],
      ['es', ['model.embedding_sharing=es']],
      ['nes', ['model.embedding_sharing=nes']],
    ])
  })

  it('gives exactly the listed override sets, with deletions and explicit names', () => {
    const {variants, issues} = expandSweep({
      sweep: [{'model.embedding_sharing': 'gdes'}, {variant: 'mlm', 'model.plugin': 'mlm', '~model.temperature': null, 'schedule.optimizer': {lr: 0.01}}],
      origins: emptyOriginMap(),
    })
    expect(issues).to.deep.equal([])
    expect(variants).to.have.length(2)
    expect(variants[0]).to.deep.include({name: 'gdes', overrides: ['model.embedding_sharing=gdes']})
    expect(variants[1]).to.deep.include({name: 'mlm', overrides: ['model.plugin=mlm', '~model.temperature', 'schedule.optimizer={"lr":0.01}']})
  })

  it('rejects clashing variant names', () => {
    const {issues} = expandSweep({sweep: [{'model.steps': 2}, {'model.steps': 2}], origins: emptyOriginMap()})
    expect(issues.map((i) => i.message)).to.deep.equal(['2 variants are named `2`; give each a distinct `variant:` name'])
  })

  it('loads every variant with the command line overrides applied after the variant\'s', async () => {
    const {base, variants} = await load(write('  model.steps: [2, 5]\n'), ['loss.lambda=3'])
    expect(base.value.sweep).to.deep.equal({'model.steps': [2, 5]})
    expect(variants!.map((v) => [v.variant.name, v.pipeline!.value.model.steps, v.pipeline!.value.loss.lambda, v.pipeline!.value.sweep])).to.deep.equal([
      ['steps-2', 2, 3, undefined],
      ['steps-5', 5, 3, undefined],
    ])
  })

  it('locates a malformed key path at its line in the sweep section', async () => {
    const file = write('  model.steps: [2]\n  model..steps: [3]\n')
    const error = await load(file).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).to.be.instanceOf(PipelineInvalid)
    expect((error as PipelineInvalid).issues.map(formatIssue)).to.deep.equal(['p.yaml:5:3: sweep.model..steps: `model..steps` is not a key path like model.embedding_sharing (sweep and extends cannot be swept)'])
  })

  it('reports an unknown key in one variant at the sweep entry, and keeps the valid variant', async () => {
    const file = write('  - {variant: ok, model.steps: 2}\n  - variant: typo\n    model.stepz: 2\n')
    const {variants} = await load(file)
    expect(variants!.map((v) => [v.variant.name, v.pipeline !== undefined])).to.deep.equal([
      ['ok', true],
      ['typo', false],
    ])
    const error = sweepInvalid({file: 'p.yaml', variants: variants!})!
    expect(error.issues.map(formatIssue)).to.deep.equal([
      'p.yaml:6:5: model.stepz: variant typo: unknown key `stepz` in model (allowed: plugin, steps, delay_ms, fail_at, save_delay_ms); did you mean `steps`?',
    ])
  })

  it('rejects a product entry that is not a list of values (schema), located', async () => {
    const error = await load(write('  model.steps: 2\n')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).to.be.instanceOf(PipelineInvalid)
    expect((error as PipelineInvalid).issues.map(formatIssue).join('\n')).to.match(/^p\.yaml:4:\d+: sweep/)
  })
})

describe('sweepDirsNewestFirst', () => {
  it('orders by stamp, then by clash suffix, and ignores other runs', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-sweep-dirs-'))
    try {
      for (const d of ['a-sweep-20250101-120000', 'a-sweep-20250101-120000-1', 'a-sweep-20250102-090000', 'a-20250103-000000', 'ab-sweep-20250104-000000']) fs.mkdirSync(path.join(tmp, d))
      expect(sweepDirsNewestFirst({outputDir: tmp, name: 'a'}).map((d) => path.basename(d))).to.deep.equal(['a-sweep-20250102-090000', 'a-sweep-20250101-120000-1', 'a-sweep-20250101-120000'])
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })
})
