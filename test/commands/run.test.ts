import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {finished, repoRoot, runCli, spawnCli} from '../helpers/run-cli.js'

const fx = path.join(repoRoot, 'test/fixtures/pipelines')

describe('rtd run', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-cli-run-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('exits 0 and returns the run directory and metrics with --json', async () => {
    const r = await runCli({args: ['run', path.join(fx, 'valid.yaml'), `output.dir=${tmp}`, '--json']})
    expect(r.code, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({state: 'completed', resumed: false, metrics: {lines: 3, steps: 3}})
    expect(path.dirname(result.runDir)).to.equal(tmp)
    expect(JSON.parse(fs.readFileSync(path.join(result.runDir, 'status.json'), 'utf8')).state).to.equal('completed')
  })

  it('exits 2 and creates no files at all for an invalid pipeline', async () => {
    const out = path.join(tmp, 'runs')
    // from another working directory: output.dir=runs is relative to it
    const r = await runCli({args: ['run', path.join(fx, 'valid.yaml'), 'output.dir=runs', 'schedule.optimizer.lr=-1', 'model.stepz=2'], cwd: tmp})
    expect(r.code).to.equal(2)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.contain('command line override `model.stepz=2`: model.stepz: unknown key `stepz` in model (allowed: plugin, steps, delay_ms, fail_at, save_delay_ms); did you mean `steps`?')
    expect(r.stderr).to.contain('command line override `schedule.optimizer.lr=-1`: schedule.optimizer.lr: must be > 0, got -1')
    expect(fs.existsSync(out)).to.equal(false)
    expect(fs.readdirSync(tmp)).to.deep.equal([])
  })

  it('exits 1 for a runtime failure and marks the run failed', async () => {
    const r = await runCli({args: ['run', path.join(fx, 'valid.yaml'), `output.dir=${tmp}`, 'model.fail_at=1']})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('Error (stage.failed): the model stage (counter) failed: counter failed at step 1 on purpose')
    const [dir] = fs.readdirSync(tmp)
    expect(JSON.parse(fs.readFileSync(path.join(tmp, dir, 'status.json'), 'utf8')).state).to.equal('failed')
  })

  it('stops at a safe point on Ctrl-C, saves, exits 130, and --auto-resume continues the run', async () => {
    const child = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`]})
    const done = finished(child)
    // wait until the model stage has counted a step
    const metricsFile = () => {
      const [dir] = fs.existsSync(tmp) ? fs.readdirSync(tmp) : []
      return dir === undefined ? undefined : path.join(tmp, dir, 'metrics.jsonl')
    }
    for (let i = 0; i < 600; i++) {
      const f = metricsFile()
      if (f !== undefined && fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('"step"')) break
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGINT')
    const r = await done
    expect(r.code, r.stderr).to.equal(130)
    const dir = path.dirname(metricsFile()!)
    expect(r.stdout).to.contain(`run directory: ${dir}`)
    expect(r.stderr).to.contain('Error (interrupted)')
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')).state).to.equal('interrupted')
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).step as number

    // --auto-resume continues that run in the same directory
    const again = await runCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`, `model.steps=${saved + 1}`, '--auto-resume', '--json']})
    expect(again.code, again.stderr).to.equal(0)
    expect(JSON.parse(again.stdout)).to.deep.include({runDir: dir, resumed: true, state: 'completed'})
  })

  it('a second Ctrl-C exits at once with 130 and marks the run interrupted, not running', async () => {
    const child = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`, 'model.save_delay_ms=60000']})
    const done = finished(child)
    const statusFile = () => {
      const [dir] = fs.existsSync(tmp) ? fs.readdirSync(tmp) : []
      return dir === undefined ? undefined : path.join(tmp, dir, 'status.json')
    }
    const metricsHasStep = () => {
      const f = statusFile()
      const m = f === undefined ? undefined : path.join(path.dirname(f), 'metrics.jsonl')
      return m !== undefined && fs.existsSync(m) && fs.readFileSync(m, 'utf8').includes('"step"')
    }
    for (let i = 0; i < 1200 && !metricsHasStep(); i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGINT')
    // The first Ctrl-C is noticed (the save has started) before the second is sent.
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    for (let i = 0; i < 600 && !stderr.includes('Ctrl-C: stopping'); i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGINT')
    const r = await done
    expect(r.code, r.stderr).to.equal(130)
    expect(r.stderr).to.contain('second Ctrl-C: exiting now without saving')
    const status = JSON.parse(fs.readFileSync(statusFile()!, 'utf8'))
    expect(status.state).to.equal('interrupted')
    expect(status.error.message).to.contain('second Ctrl-C')
    expect(fs.existsSync(path.join(path.dirname(statusFile()!), 'checkpoint.json'))).to.equal(false)
  })

  it('two rtd runs of one interrupted pipeline: exactly one resumes, the other exits 2 naming the process that holds it', async function () {
    this.timeout(300_000) // three CLI processes, two at once
    const first = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`]})
    const firstDone = finished(first)
    const metrics = () => {
      const [dir] = fs.existsSync(tmp) ? fs.readdirSync(tmp) : []
      return dir === undefined ? undefined : path.join(tmp, dir, 'metrics.jsonl')
    }
    const hasStep = () => metrics() !== undefined && fs.existsSync(metrics()!) && fs.readFileSync(metrics()!, 'utf8').includes('"step"')
    for (let i = 0; i < 1200 && !hasStep(); i++) await new Promise((r) => setTimeout(r, 50))
    first.kill('SIGINT')
    expect((await firstDone).code).to.equal(130)
    const dir = path.dirname(metrics()!)
    expect(fs.existsSync(path.join(dir, 'claim.json')), 'the claim is released on exit').to.equal(false)

    const a = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`, '--resume', dir]})
    const b = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`, '--resume', dir]})
    const results = [finished(a).then((r) => ({r, child: a, other: b})), finished(b).then((r) => ({r, child: b, other: a}))]
    const loser = await Promise.race(results)
    expect(loser.r.code, loser.r.stderr).to.equal(2)
    expect(loser.r.stderr).to.match(new RegExp(`Error \\(claim\\.held\\): run .* is in use by process ${loser.other.pid} \\(`))
    // The winner is resuming that run and holds the claim.
    const claim = JSON.parse(fs.readFileSync(path.join(dir, 'claim.json'), 'utf8'))
    expect(claim.pid).to.equal(loser.other.pid)
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'))).to.include({state: 'running', pid: loser.other.pid})
    loser.other.kill('SIGINT')
    const winner = await results[loser.child === a ? 1 : 0]
    expect(winner.r.code, winner.r.stderr).to.equal(130)
    expect(winner.r.stdout).to.contain(`run directory: ${dir}`)
    expect(fs.readdirSync(tmp)).to.have.length(1)
  })

  it('a plain rtd run while the newest run of the pipeline is live in another process exits 2 naming that process and suggests --fresh', async function () {
    this.timeout(300_000) // two CLI processes
    const first = spawnCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`]})
    const firstDone = finished(first)
    const metrics = () => {
      const [dir] = fs.existsSync(tmp) ? fs.readdirSync(tmp) : []
      return dir === undefined ? undefined : path.join(tmp, dir, 'metrics.jsonl')
    }
    const hasStep = () => metrics() !== undefined && fs.existsSync(metrics()!) && fs.readFileSync(metrics()!, 'utf8').includes('"step"')
    for (let i = 0; i < 1200 && !hasStep(); i++) await new Promise((r) => setTimeout(r, 50))
    const dir = path.dirname(metrics()!)
    const second = await runCli({args: ['run', path.join(fx, 'slow.yaml'), `output.dir=${tmp}`]})
    expect(second.code, second.stderr).to.equal(2)
    expect(second.stderr).to.match(new RegExp(`Error \\(run\\.live\\): the newest run of \\S+, .*${path.basename(dir)}, is running in process ${first.pid} \\(\``))
    expect(second.stderr).to.contain('--fresh')
    expect(fs.readdirSync(tmp), 'no second run directory').to.deep.equal([path.basename(dir)])
    first.kill('SIGINT')
    expect((await firstDone).code).to.equal(130)
  })

  it('exits 2 on a usage error', async () => {
    const r = await runCli({args: ['run', path.join(fx, 'valid.yaml'), '--no-such-flag', '--json']})
    expect(r.code).to.equal(2)
    expect(JSON.parse(r.stdout).error).to.include({code: 'usage', exitCode: 2})
  })
})
