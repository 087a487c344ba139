import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'
import {parse} from 'yaml'

import {repoRoot, runCli} from '../helpers/run-cli.js'

const fx = path.join(repoRoot, 'test/fixtures/pipelines')

describe('rtd validate', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-validate-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('--print shows the resolved pipeline with every default filled in', async () => {
    const r = await runCli({args: ['validate', path.join(fx, 'valid.yaml'), 'schedule.batch_size=16', '~evaluation', '--print']})
    expect(r.code).to.equal(0)
    const printed = parse(r.stdout)
    expect(Object.keys(printed)).to.deep.equal(['name', 'seed', 'runtime', 'data', 'model', 'loss', 'schedule', 'output', 'plugins'])
    expect(printed.runtime).to.have.all.keys('backend', 'threads', 'workers', 'native', 'recompute')
    expect(printed.data.min_length).to.equal(1)
    expect(printed.schedule).to.include({batch_size: 16, grad_accumulation: 1, clip_norm: 1, training: 'joint', log_every: 1, eval_every: 0, checkpoint_every: 0, keep: 2})
    expect(printed.schedule.optimizer).to.deep.equal({type: 'adamw', lr: 2e-4, betas: [0.9, 0.999], eps: 1e-6, weight_decay: 0.01})
    expect(printed).to.not.have.property('evaluation')
  })

  it('exits 2 listing every issue with file:line:col, and --json returns them', async () => {
    const r = await runCli({args: ['validate', 'test/fixtures/pipelines/invalid.yaml', '--json'], cwd: repoRoot})
    expect(r.code).to.equal(2)
    const {error} = JSON.parse(r.stdout)
    expect(error).to.include({code: 'pipeline.invalid', exitCode: 2})
    expect(error.issues).to.have.length(7)
    expect(error.issues[0]).to.deep.equal({
      code: 'schema.unknown_key',
      path: 'data.min_lenght',
      message: 'unknown key `min_lenght` in data (allowed: plugin, file, min_length)',
      origin: {kind: 'file', file: 'test/fixtures/pipelines/invalid.yaml', line: 8, col: 3},
      didYouMean: 'min_length',
    })
  })
})
