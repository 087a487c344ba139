import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {createMetricsSink, createProgress, createRunLogger} from '../../../src/pipeline/run-log.js'
import type {Logger} from '../../../src/plugin/run-context.js'

describe('run log', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-log-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const now = () => new Date('2026-01-02T03:04:05Z')

  it('writes every level to run.log but echoes debug lines only when verbose', () => {
    const echoed: string[] = []
    const log = createRunLogger({runDir: tmp, console: {line: (t) => echoed.push(t)}, now})
    log.info('hello')
    log.warn('careful')
    log.debug('details')
    expect(fs.readFileSync(path.join(tmp, 'run.log'), 'utf8')).to.equal(
      '2026-01-02T03:04:05.000Z INFO  hello\n2026-01-02T03:04:05.000Z WARN  careful\n2026-01-02T03:04:05.000Z DEBUG details\n',
    )
    expect(echoed).to.deep.equal(['hello', 'warn: careful'])
    const verbose: string[] = []
    createRunLogger({runDir: tmp, console: {line: (t) => verbose.push(t)}, verbose: true, now}).debug('x')
    expect(verbose).to.deep.equal(['debug: x'])
  })

  it('appends one JSON object per metrics record, with a time', () => {
    const sink = createMetricsSink({runDir: tmp, now})
    sink.write({step: 1, loss: 2.5})
    sink.write({step: 2})
    expect(fs.readFileSync(path.join(tmp, 'metrics.jsonl'), 'utf8')).to.equal(
      '{"time":"2026-01-02T03:04:05.000Z","step":1,"loss":2.5}\n{"time":"2026-01-02T03:04:05.000Z","step":2}\n',
    )
  })

  it('without a TTY, reports progress as a log line at most every logEverySeconds', () => {
    const lines: string[] = []
    const log: Logger = {info: (m) => lines.push(m), warn: () => {}, debug: () => {}}
    let t = 0
    const bar = createProgress({label: 'train', total: 100, unit: 'step', log, logEverySeconds: 10, now: () => t})
    t = 5000
    bar.update(10)
    t = 10_000
    bar.update(20, {loss: 1.23456})
    t = 15_000
    bar.update(30)
    bar.stop()
    expect(lines).to.deep.equal(['train 20/100 step (2.0 step/s) loss=1.235'])
  })
})
