import {expect} from 'chai'
import * as tf from '#tfjs'
import {ConfigError} from '../../../src/errors.js'
import {runBench} from '../../../src/bench/run-bench.js'
import type {BenchConfigName} from '../../../src/bench/bench-configs.js'

describe('runBench', function () {
  this.timeout(120_000)

  it('times the tiny training step and reports sane fields, without leaking tensors', async () => {
    await runBench({config: 'tiny', steps: 1, warmup: 0, backend: 'cpu', batch: 2, seq: 32}) // backend up, per-length caches filled
    const before = tf.memory().numTensors
    const r = await runBench({config: 'tiny', steps: 2, warmup: 1, backend: 'cpu', batch: 4, seq: 32})
    expect(tf.memory().numTensors).to.equal(before)
    expect(r).to.include({config: 'tiny', mode: 'train', backend: 'cpu', native: false, workers: 1, batch: 4, seq: 32, steps: 2, warmup: 1, sharing: 'gdes'})
    expect(r.s_per_step).to.be.greaterThan(0)
    expect(r.min_s).to.be.at.most(r.s_per_step)
    expect(r.max_s).to.be.at.least(r.s_per_step)
    expect(r.tokens_per_s).to.be.closeTo((4 * 32) / r.s_per_step, 0.01 * r.tokens_per_s + 0.1)
    expect(r.peak_rss_mb).to.be.greaterThan(10)
    // L_MLM ~ ln(1000) plus 50·L_RTD ~ 50·ln 2 at initialisation
    expect(r.last_loss).to.be.within(20, 60)
    expect(r.loadavg_before).to.have.length(3)
  })

  it('runs forward-only and with two workers', async () => {
    const f = await runBench({config: 'tiny', steps: 1, warmup: 0, backend: 'cpu', batch: 2, seq: 16, forwardOnly: true, workers: 2})
    expect(f).to.include({mode: 'forward', workers: 1})
    const w = await runBench({config: 'tiny', steps: 2, warmup: 0, backend: 'cpu', batch: 3, seq: 16, workers: 2})
    expect(w).to.include({mode: 'train', workers: 2})
    expect(w.weight_sync_ms).to.be.a('number')
    expect(w.last_loss).to.be.within(20, 60)
  })

  it('refuses unknown configs and bad numbers with a ConfigError', async () => {
    for (const o of [{config: 'huge' as BenchConfigName}, {config: 'tiny' as const, steps: 0}, {config: 'tiny' as const, seq: 4096}]) {
      let err: unknown
      await runBench({backend: 'cpu', ...o}).catch((e) => (err = e))
      expect(err, JSON.stringify(o)).to.be.instanceOf(ConfigError)
    }
  })
})
