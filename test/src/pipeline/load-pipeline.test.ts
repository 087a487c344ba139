import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {loadPipeline, type LoadPipelineParams} from '../../../src/pipeline/load-pipeline.js'
import {formatIssue, PipelineInvalid} from '../../../src/pipeline/pipeline-issue.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const fx = 'test/fixtures/pipelines'

/**
 * Load from the repo root (so issues name test/fixtures/... files) with a fixed env and cpu
 * count, and only the fixture plugins (no built-ins, so messages listing plugins are stable).
 */
function load(file: string, extra: Partial<LoadPipelineParams> = {}) {
  return loadPipeline({file, cwd: root, env: {}, cpuCount: 4, registry: new PluginRegistry({builtins: []}), ...extra})
}

/** The formatted issue lines of an invalid pipeline. */
async function issuesOf(file: string, extra: Partial<LoadPipelineParams> = {}): Promise<string[]> {
  try {
    await load(file, extra)
  } catch (error) {
    if (error instanceof PipelineInvalid) return error.issues.map(formatIssue)
    throw error
  }
  throw new Error(`${file} unexpectedly valid`)
}

describe('loadPipeline', () => {
  it('fills in every default of a valid pipeline, including plugin option defaults', async () => {
    const {value} = await load(`${fx}/valid.yaml`)
    expect(value.runtime).to.deep.equal({backend: 'auto', threads: 4, workers: 1, native: 'auto', recompute: 'auto'})
    expect(value.data).to.deep.equal({plugin: 'line-count', file: 'corpus.txt', min_length: 1})
    expect(value.model).to.deep.equal({plugin: 'counter', steps: 3, delay_ms: 0})
    expect(value.loss).to.deep.equal({lambda: 10, mlm_weight: 1})
    expect(value.schedule.optimizer).to.deep.equal({type: 'adamw', lr: 2e-4, betas: [0.9, 0.999], eps: 1e-6, weight_decay: 0.01})
    expect(value.schedule.lr_schedule).to.deep.equal({type: 'exponential', gamma: 0.9, warmup_steps: 0})
    expect(value.schedule).to.include({max_steps: 100, batch_size: 8, grad_accumulation: 1, clip_norm: 1, training: 'joint', keep: 2})
    expect(value.schedule).to.not.have.property('epochs') // max_steps is set
    expect(value.output).to.deep.equal({dir: 'runs'})
    expect(value.evaluation).to.deep.equal({plugin: 'line-stats', scale: 1})
  })

  it('defaults epochs to 1 only when max_steps is not set', async () => {
    const {value} = await load(`${fx}/valid.yaml`, {overrides: ['~schedule.max_steps']})
    expect(value.schedule.epochs).to.equal(1)
  })

  it('reports every issue at once with exact file:line:col and did-you-mean', async () => {
    const f = `${fx}/invalid.yaml`
    expect(await issuesOf(f)).to.deep.equal([
      `${f}:8:3: data.min_lenght: unknown key \`min_lenght\` in data (allowed: plugin, file, min_length); did you mean \`min_length\`?`,
      `${f}:10:11: model.plugin: unknown model plugin \`countr\`; available model plugins: counter; did you mean \`counter\`?`,
      `${f}:12:3: schedule.batchsize: unknown key \`batchsize\` in schedule (allowed: epochs, max_steps, batch_size, grad_accumulation, optimizer, lr_schedule, clip_norm, training, log_every, eval_every, checkpoint_every, keep); did you mean \`batch_size\`?`,
      `${f}:14:9: schedule.optimizer.lr: must be > 0, got -1`,
      `${f}:16:11: schedule.lr_schedule.type: expected one of "exponential", "warmup_linear", "constant"; got "cosine"`,
      `${f}:18:11: loss.lambda.end: missing required key \`end\``,
      `${f}:18:11: loss.lambda.steps: missing required key \`steps\``,
    ])
  })

  it('points seed-project flags written as top-level keys at their pipeline keys', async () => {
    const f = `${fx}/seed-flags.yaml`
    const issues = await issuesOf(f)
    expect(issues).to.have.length(3)
    expect(issues[0]).to.match(/^test\/fixtures\/pipelines\/seed-flags\.yaml:3:1: lambda_disc: unknown key `lambda_disc` at the top level: `lambda_disc` is a flag of the Python seed project \(rtd_gdes\); its pipeline key is `loss.lambda`.*; did you mean `loss.lambda`\?$/)
    expect(issues[1]).to.match(/batch_size: .*its pipeline key is `schedule.batch_size`.*did you mean `schedule.batch_size`\?$/)
    expect(issues[2]).to.match(/fp16: .*with no pipeline key \(rtd trains in float32/)
    expect(issues[2]).to.not.include('did you mean')
  })

  it('names a plugin of the wrong kind', async () => {
    const issues = await issuesOf(`${fx}/valid.yaml`, {overrides: ['model.plugin=line-count']})
    expect(issues).to.deep.equal([
      'command line override `model.plugin=line-count`: model.plugin: unknown model plugin `line-count` (`line-count` is a data plugin); available model plugins: counter',
    ])
  })

  it('locates command line overrides and rejects epochs together with max_steps', async () => {
    const issues = await issuesOf(`${fx}/valid.yaml`, {overrides: ['schedule.batch_size=0', 'schedule.epochs=2']})
    expect(issues).to.deep.equal([
      'test/fixtures/pipelines/valid.yaml:17:3: schedule: set epochs or max_steps, not both',
      'command line override `schedule.batch_size=0`: schedule.batch_size: must be >= 1, got 0',
    ])
  })

  it('runs plugin cross-field checks after the schema passes, located like schema issues', async () => {
    expect(await issuesOf(`${fx}/valid.yaml`, {overrides: ['model.fail_at=9']})).to.deep.equal([
      'command line override `model.fail_at=9`: model.fail_at: fail_at (9) is beyond steps (3): it would never fail',
    ])
  })

  it('reports YAML syntax errors with file:line:col', async () => {
    expect(await issuesOf(`${fx}/syntax-error.yaml`)).to.deep.equal([
      `${fx}/syntax-error.yaml:3:11: (yaml): YAML syntax: Nested mappings are not allowed in compact mappings`,
      `${fx}/syntax-error.yaml:3:11: (yaml): YAML syntax: Implicit keys need to be on a single line`,
    ])
  })

  it('throws a ConfigError for a missing pipeline file', async () => {
    try {
      await load(`${fx}/nope.yaml`)
      expect.fail('should throw')
    } catch (error) {
      expect(error).to.have.property('code', 'pipeline.not_found')
      expect(error).to.have.property('exitCode', 2)
    }
  })

  it('reports a plugin module that exports no valid plugin where it is listed', async () => {
    const issues = await issuesOf(`${fx}/valid.yaml`, {overrides: ['plugins=../plugins/broken-plugin.mjs']})
    expect(issues).to.have.length(1)
    expect(issues[0]).to.match(/^command line override `plugins=..\/plugins\/broken-plugin.mjs`: plugins\[0\]: plugin `broken` from ..\/plugins\/broken-plugin.mjs is invalid:/)
    expect(issues[0]).to.contain('kind must be one of data, model, evaluation, finetune, architecture, got "tokenizer"')
    expect(issues[0]).to.contain('create must be a function')
  })
})

describe('loadPipeline: extends, overrides and env', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-load-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('deep-merges the base, applies overrides and deletions, and locates errors in the child file', async () => {
    const child = `${fx}/ablations/child.yaml`
    expect(await issuesOf(child)).to.deep.equal([`${child}:8:19: schedule.optimizer.weight_decay: expected a number, got "oops"`])

    const {value, sources} = await load(child, {overrides: ['schedule.optimizer.weight_decay=0.1', '~model.delay_ms', 'seed=5', 'schedule.optimizer.betas=0.7,0.8']})
    expect(value.name).to.equal('fixture-child') // child replaces
    expect(value.seed).to.equal(5) // override
    expect(value.model).to.deep.equal({plugin: 'counter', steps: 5, delay_ms: 0}) // merged; deleted key falls back to its default
    expect(value.schedule.epochs).to.equal(2) // from the base
    expect(value.schedule.optimizer).to.include({lr: 3e-4, weight_decay: 0.1}) // base lr, overridden decay
    expect(value.schedule.optimizer.betas).to.deep.equal([0.7, 0.8]) // lists replace
    expect(value).to.not.have.property('extends')
    expect(sources.map((s) => path.relative(root, s.file))).to.deep.equal([child, `${fx}/base.yaml`])
  })

  it('takes list values from the child (lists replace, not concatenate)', async () => {
    const {value} = await load(`${fx}/ablations/child.yaml`, {overrides: ['schedule.optimizer.weight_decay=0']})
    expect(value.schedule.optimizer.betas).to.deep.equal([0.5, 0.6])
  })

  it('locates an error in a value inherited from the base in the base file', async () => {
    fs.writeFileSync(path.join(tmp, 'base.yaml'), 'name: b\nseed: -3\nruntime:\n  backend: cpu\n')
    fs.mkdirSync(path.join(tmp, 'sub'))
    fs.writeFileSync(path.join(tmp, 'sub', 'child.yaml'), `extends: ../base.yaml\nplugins: [${JSON.stringify(path.join(root, 'test/fixtures/plugins/counter-model.mjs'))}]\nmodel: {plugin: counter}\nruntime:\n  backend: gpu\n`)
    expect(await issuesOf(path.join(tmp, 'sub', 'child.yaml'), {cwd: tmp})).to.deep.equal([
      'base.yaml:2:7: seed: must be >= 0, got -3',
      'sub/child.yaml:5:12: runtime.backend: expected one of "auto", "native", "wasm", "cpu", "tensorflow", "webgpu"; got "gpu"; did you mean `cpu`?',
    ])
  })

  it('suggests the section for a misspelled top-level key and locates an empty file at 1:1', async () => {
    fs.writeFileSync(path.join(tmp, 'top.yaml'), 'name: t\nschedul:\n  epochs: 1\n')
    expect(await issuesOf(path.join(tmp, 'top.yaml'), {cwd: tmp})).to.deep.equal([
      'top.yaml:1:1: (root): a pipeline needs at least one stage (data, model, evaluation, finetune)',
      'top.yaml:2:1: schedul: unknown key `schedul` at the top level (allowed: name, extends, seed, runtime, data, model, finetune, loss, schedule, evaluation, output, sweep, plugins); did you mean `schedule`?',
    ])
    fs.writeFileSync(path.join(tmp, 'empty.yaml'), '# nothing here\n')
    expect(await issuesOf(path.join(tmp, 'empty.yaml'), {cwd: tmp})).to.deep.equal(['empty.yaml:1:1: (root): a pipeline must be a mapping of sections (name:, data:, model:, ...)'])
  })

  it('deletes a base key written ~key in the extending file', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-del-'))
    try {
      fs.copyFileSync(path.join(root, fx, 'corpus.txt'), path.join(tmp, 'corpus.txt'))
      fs.writeFileSync(path.join(tmp, 'top.yaml'), `extends: ${JSON.stringify(path.join(root, fx, 'valid.yaml'))}\nschedule:\n  ~max_steps:\n  epochs: 2\n~evaluation:\n`)
      const {value} = await load(path.join(tmp, 'top.yaml'), {cwd: tmp})
      expect(value.schedule).to.not.have.property('max_steps')
      expect(value.schedule.epochs).to.equal(2)
      expect(value).to.not.have.property('evaluation')
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })

  it('reports an extends cycle and a missing base', async () => {
    expect(await issuesOf(`${fx}/cycle-a.yaml`)).to.deep.equal([
      `${fx}/cycle-b.yaml:1:10: extends: extends forms a cycle: ${fx}/cycle-a.yaml -> ${fx}/cycle-b.yaml -> ${fx}/cycle-a.yaml`,
    ])
    fs.writeFileSync(path.join(tmp, 'p.yaml'), 'name: p\nextends: missing.yaml\n')
    const issues = await issuesOf(path.join(tmp, 'p.yaml'), {cwd: tmp})
    expect(issues).to.deep.equal(['p.yaml:2:10: extends: base pipeline missing.yaml does not exist (paths in extends are relative to the including file)'])
  })

  it('substitutes ${env:VAR}, types whole-value references by the schema, and uses :- defaults', async () => {
    const {value} = await load(`${fx}/env.yaml`, {env: {RTD_TEST_MIN: '3', RTD_TEST_OUT: tmp}})
    expect(value.data).to.deep.equal({plugin: 'line-count', file: 'corpus.txt', min_length: 3})
    expect(value.output.dir).to.equal(`${tmp}/runs`)
  })

  it('reports every missing environment variable at its file:line:col', async () => {
    expect(await issuesOf(`${fx}/env.yaml`, {env: {}})).to.deep.equal([
      `${fx}/env.yaml:6:15: data.min_length: environment variable RTD_TEST_MIN is not set (written as \`\${env:RTD_TEST_MIN}\`)`,
      `${fx}/env.yaml:8:8: output.dir: environment variable RTD_TEST_OUT is not set (written as \`\${env:RTD_TEST_OUT}/runs\`)`,
    ])
  })
})
