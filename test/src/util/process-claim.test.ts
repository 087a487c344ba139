import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {ConfigError} from '../../../src/errors.js'
import {claimDir, currentOwner, isOwnerAlive, isTempWriterAlive, processStartMs} from '../../../src/util/process-claim.js'

describe('process-claim', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-claim-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  // A pid that existed and is gone: a finished child's.
  const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!

  it('reads this process start time from /proc, before now and stable', function () {
    if (!fs.existsSync('/proc/self/stat')) this.skip()
    const a = processStartMs(process.pid)!
    expect(a).to.be.a('number')
    expect(a).to.be.lessThan(Date.now() + 1)
    expect(Date.now() - a).to.be.lessThan(process.uptime() * 1000 + 2000)
    expect(processStartMs(process.pid)).to.equal(a)
  })

  it('a live owner is alive; a dead pid, or a live pid whose start time differs (reused), is not', function () {
    if (!fs.existsSync('/proc/self/stat')) this.skip()
    const me = currentOwner()
    expect(isOwnerAlive(me)).to.equal(true)
    expect(isOwnerAlive({pid: me.pid, startMs: me.startMs! - 60_000})).to.equal(false)
    expect(isOwnerAlive({pid: deadPid()})).to.equal(false)
    // A temporary last written before this process started cannot be ours... unless the pid is ours.
    const tmp = path.join(dir, 'x.tmp-1')
    fs.writeFileSync(tmp, '')
    fs.utimesSync(tmp, new Date(me.startMs! - 3_600_000), new Date(me.startMs! - 3_600_000))
    expect(isOwnerAlive({pid: me.pid, writtenAtMs: me.startMs! - 3_600_000})).to.equal(false)
    expect(isTempWriterAlive({pid: me.pid, file: tmp})).to.equal(true)
    expect(isTempWriterAlive({pid: process.ppid, file: tmp})).to.equal(processStartMs(process.ppid)! <= me.startMs! - 3_600_000)
    expect(isTempWriterAlive({pid: deadPid(), file: tmp})).to.equal(false)
  })

  it('claims a directory exclusively; a second claim names the holder; release lets it be claimed again', () => {
    const c = claimDir({dir, what: 'run x', command: 'rtd run p.yaml'})
    const held = JSON.parse(fs.readFileSync(c.file, 'utf8'))
    expect(held).to.include({pid: process.pid, command: 'rtd run p.yaml'})
    let err: unknown
    try {
      claimDir({dir, what: 'run x'})
    } catch (error) {
      err = error
    }
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('claim.held')
    expect((err as ConfigError).message).to.match(new RegExp(`^run x is in use by process ${process.pid} \\(\`rtd run p\\.yaml\`, since \\d{4}-`))
    c.release()
    expect(fs.existsSync(c.file)).to.equal(false)
    claimDir({dir, what: 'run x'}).release()
  })

  it('takes over a claim whose process is gone or whose pid was reused', function () {
    const file = path.join(dir, '.claim')
    fs.writeFileSync(file, JSON.stringify({pid: deadPid(), host: os.hostname(), since: 'then', command: 'old'}))
    const c = claimDir({dir, what: 'run x'})
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).to.equal(process.pid)
    c.release()
    if (!fs.existsSync('/proc/self/stat')) return
    fs.writeFileSync(file, JSON.stringify({pid: process.pid, startMs: currentOwner().startMs! - 60_000, host: os.hostname(), since: 'then', command: 'old'}))
    claimDir({dir, what: 'run x'}).release()
    expect(fs.readdirSync(dir)).to.deep.equal([])
  })
})
