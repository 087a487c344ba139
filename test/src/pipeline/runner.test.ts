import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'
import {parse} from 'yaml'

import {Interrupted, RuntimeFailure} from '../../../src/errors.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import {loadPipeline} from '../../../src/pipeline/load-pipeline.js'
import {checkResumable, findInterruptedRun, findResumableRun, readStatus, writeStatus} from '../../../src/pipeline/run-dir.js'
import {runPipeline} from '../../../src/pipeline/runner.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const fx = path.join(root, 'test/fixtures/pipelines')
const clock = () => new Date('2026-01-02T03:04:05Z')

const readLines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n')

describe('runPipeline', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-run-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  // Only the fixture plugins: no built-ins, so the tests do not depend on (or load) them.
  const load = (file: string, overrides: string[] = []) =>
    loadPipeline({file: path.join(fx, file), overrides: [`output.dir=${tmp}`, ...overrides], env: {}, registry: new PluginRegistry({builtins: []})})

  it('runs the stages in order and records the run in <output.dir>/<name>-<stamp>', async () => {
    const pipeline = await load('valid.yaml', ['model.steps=2'])
    const started: string[] = []
    const result = await runPipeline({pipeline, now: clock, argv: ['rtd', 'run'], onStart: (d) => started.push(d)})

    const dir = path.join(tmp, 'fixture-run-20260102-030405')
    expect(result).to.deep.equal({runDir: dir, state: 'completed', resumed: false, metrics: {lines: 3, steps: 2}, outputs: {}})
    expect(started).to.deep.equal([dir])
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['environment.json', 'metrics.jsonl', 'overrides.json', 'pipeline.yaml', 'plugins.json', 'resolved.yaml', 'run.log', 'status.json'])
    expect(fs.readFileSync(path.join(dir, 'pipeline.yaml'), 'utf8')).to.equal(fs.readFileSync(path.join(fx, 'valid.yaml'), 'utf8'))
    expect(parse(fs.readFileSync(path.join(dir, 'resolved.yaml'), 'utf8'))).to.deep.equal(pipeline.value)
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'overrides.json'), 'utf8'))).to.deep.equal([`output.dir=${tmp}`, 'model.steps=2'])
    // the external plugin modules, by absolute path, for `rtd export`
    const modules = (JSON.parse(fs.readFileSync(path.join(dir, 'plugins.json'), 'utf8')) as {modules: string[]}).modules
    expect(modules.length).to.be.greaterThan(0)
    for (const m of modules) expect(path.isAbsolute(m) && fs.existsSync(m), m).to.equal(true)
    const env = JSON.parse(fs.readFileSync(path.join(dir, 'environment.json'), 'utf8'))
    expect(env).to.include({node: process.version, backendRequested: 'auto', rtd: '0.1.0'})
    expect(env.packages['@tensorflow/tfjs']).to.equal('4.22.0')
    expect(env.argv).to.deep.equal(['rtd', 'run'])
    // data stage line, two model steps, one evaluation line: in stage order
    const metrics = readLines(path.join(dir, 'metrics.jsonl')).map((l) => JSON.parse(l))
    expect(metrics.map((m) => m.stage ?? `step${m.step}`)).to.deep.equal(['data', 'step1', 'step2', 'evaluation'])
    expect(readStatus(dir)).to.deep.include({state: 'completed', pid: process.pid, metrics: {lines: 3, steps: 2}})
    expect(fs.readFileSync(path.join(dir, 'run.log'), 'utf8')).to.contain('read 3 lines from corpus.txt')
  })

  it('never reuses a run directory: a second run in the same second gets -1', async () => {
    const pipeline = await load('valid.yaml')
    await runPipeline({pipeline, now: clock})
    const second = await runPipeline({pipeline, now: clock})
    expect(path.basename(second.runDir)).to.equal('fixture-run-20260102-030405-1')
  })

  it('copies extends bases into the run directory', async () => {
    const pipeline = await loadPipeline({
      file: path.join(fx, 'ablations/child.yaml'),
      overrides: [`output.dir=${tmp}`, 'schedule.optimizer.weight_decay=0', 'data.file=../corpus.txt'],
      env: {},
      registry: new PluginRegistry({builtins: []}),
    })
    const {runDir} = await runPipeline({pipeline, now: clock})
    expect(fs.readdirSync(path.join(runDir, 'extends'))).to.deep.equal(['1-base.yaml'])
  })

  it('marks the run failed and names the stage when a plugin throws', async () => {
    const pipeline = await load('valid.yaml', ['model.fail_at=2'])
    let caught: unknown
    await runPipeline({pipeline, now: clock}).catch((error) => (caught = error))
    expect(caught).to.be.instanceOf(RuntimeFailure)
    expect((caught as RuntimeFailure).message).to.equal('the model stage (counter) failed: counter failed at step 2 on purpose')
    const status = readStatus(path.join(tmp, 'fixture-run-20260102-030405'))
    expect(status).to.deep.include({state: 'failed', error: {code: 'stage.failed', message: (caught as Error).message}})
  })

  it('stops at a safe point on abort, marks the run interrupted, and resumes in the same directory', async () => {
    const pipeline = await load('slow.yaml', ['model.delay_ms=5', 'model.steps=1000'])
    const controller = new AbortController()
    const run = runPipeline({pipeline, now: clock, signal: controller.signal})
    const dir = path.join(tmp, 'fixture-slow-20260102-030405')
    // abort once a few steps were counted
    while (!fs.existsSync(path.join(dir, 'metrics.jsonl')) || readLines(path.join(dir, 'metrics.jsonl')).length < 4) await new Promise((r) => setTimeout(r, 5))
    controller.abort()
    let caught: unknown
    await run.catch((error) => (caught = error))
    expect(caught).to.be.instanceOf(Interrupted)
    expect(readStatus(dir)?.state).to.equal('interrupted')
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).step
    expect(saved).to.be.greaterThan(2)

    expect(findResumableRun({outputDir: tmp, pipelineName: 'fixture-slow'})).to.equal(dir)
    const resumed = await runPipeline({pipeline: await load('slow.yaml', ['model.steps=' + (saved + 2)]), resumeDir: dir, now: clock})
    expect(resumed).to.include({runDir: dir, resumed: true})
    const steps = readLines(path.join(dir, 'metrics.jsonl')).map((l) => JSON.parse(l).step).filter((s) => s !== undefined)
    expect(steps.slice(-2)).to.deep.equal([saved + 1, saved + 2]) // continued, appended
    expect(readStatus(dir)).to.deep.include({state: 'completed'})
    expect(readStatus(dir)?.resumed).to.have.length(1)
    expect(() => checkResumable({runDir: dir})).to.throw(/already completed/)
  })

  it('refuses to resume a run directory of another pipeline', async () => {
    const first = await runPipeline({pipeline: await load('valid.yaml', ['model.fail_at=1']), now: clock}).catch((error) => error)
    let caught: unknown
    await runPipeline({pipeline: await load('slow.yaml'), resumeDir: first.runDir, now: clock}).catch((error) => (caught = error))
    expect(caught).to.have.property('code', 'resume.mismatch')
  })
})

describe('findResumableRun', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-resume-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const make = (name: string, state: 'running' | 'completed' | 'failed' | 'interrupted', pid = 1) => {
    fs.mkdirSync(path.join(tmp, name))
    writeStatus(path.join(tmp, name), {state, pid, started: 'x'})
  }

  it('picks the newest interrupted, failed or dead running run of the same pipeline', () => {
    make('p-20260101-000000', 'interrupted')
    make('p-20260102-000000', 'failed')
    make('p-20260102-000000-1', 'running', 42)
    make('p-20260103-000000', 'completed')
    make('other-20260104-000000', 'interrupted')
    expect(findResumableRun({outputDir: tmp, pipelineName: 'p', isAlive: () => true})).to.equal(path.join(tmp, 'p-20260102-000000'))
    expect(findResumableRun({outputDir: tmp, pipelineName: 'p', isAlive: () => false})).to.equal(path.join(tmp, 'p-20260102-000000-1'))
    expect(findResumableRun({outputDir: tmp, pipelineName: 'q'})).to.equal(undefined)
  })

  it('refuses to resume a run whose process is still alive', () => {
    make('p-20260101-000000', 'running', 42)
    expect(() => checkResumable({runDir: path.join(tmp, 'p-20260101-000000'), isAlive: () => true})).to.throw(/still running \(pid 42\)/)
  })

  it('continues by default only a newest run that was interrupted or killed', () => {
    make('p-20260101-000000', 'interrupted')
    expect(findInterruptedRun({outputDir: tmp, pipelineName: 'p'})).to.equal(path.join(tmp, 'p-20260101-000000'))
    make('p-20260102-000000', 'running', 42)
    expect(findInterruptedRun({outputDir: tmp, pipelineName: 'p', isAlive: () => false})).to.equal(path.join(tmp, 'p-20260102-000000'))
    expect(findInterruptedRun({outputDir: tmp, pipelineName: 'p', isAlive: () => true})).to.equal(undefined)
    make('p-20260103-000000', 'failed')
    expect(findInterruptedRun({outputDir: tmp, pipelineName: 'p'})).to.equal(undefined)
    make('p-20260104-000000', 'completed')
    expect(findInterruptedRun({outputDir: tmp, pipelineName: 'p'})).to.equal(undefined)
  })
})
