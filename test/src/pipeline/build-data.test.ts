import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import textPlugin from '../../../plugins/text/index.js'
import {buildData} from '../../../src/pipeline/build-data.js'
import {inspectShards} from '../../../src/data/inspect-shards.js'
import {ConfigError} from '../../../src/errors.js'
import {loadPipeline} from '../../../src/pipeline/load-pipeline.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const spmDir = path.join(repoRoot, 'test/fixtures/tokenizer')

describe('buildData and inspectShards', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-build-'))
    const lines = Array.from({length: 30}, (_, i) => `Sentence number ${i} is about films, actors and a story that goes on.`)
    fs.writeFileSync(path.join(dir, 'corpus.txt'), lines.join('\n'))
    fs.writeFileSync(
      path.join(dir, 'p.yaml'),
      ['name: data-only', 'seed: 11', 'data:', '  plugin: text', '  source: {files: corpus.txt}', `  tokenizer: {from: ${JSON.stringify(spmDir)}}`, '  max_length: 24', ''].join('\n'),
    )
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const load = (overrides: string[] = []) =>
    loadPipeline({file: path.join(dir, 'p.yaml'), overrides, registry: new PluginRegistry({builtins: [textPlugin]}), cwd: dir})

  it('runs only the data stage, then hits the cache, and rebuilds with force', async () => {
    const cacheDir = path.join(dir, 'cache')
    const a = await buildData({pipeline: await load(), cacheDir})
    expect(a.cacheHit).to.equal(false)
    expect(a.train.documents + a.eval!.documents).to.equal(30)
    expect(a.eval!.documents).to.equal(3)
    const b = await buildData({pipeline: await load(), cacheDir})
    expect(b.cacheHit).to.equal(true)
    const c = await buildData({pipeline: await load(), cacheDir, force: true})
    expect(c.cacheHit).to.equal(false)
    expect(c.shardDir).to.equal(a.shardDir)
    const d = await buildData({pipeline: await load(['data.max_length=16']), cacheDir})
    expect(d.shardDir).to.not.equal(a.shardDir)
  })

  it('--verify rebuilds a shard whose content changed at the same size; without it the size check passes', async () => {
    const cacheDir = path.join(dir, 'cache')
    const a = await buildData({pipeline: await load(), cacheDir})
    const f = path.join(a.shardDir, 'train-00000.arrow')
    const whole = fs.readFileSync(f)
    const bad = Buffer.from(whole)
    bad[Math.floor(bad.length / 2)] ^= 0xff
    fs.writeFileSync(f, bad)
    expect((await buildData({pipeline: await load(), cacheDir})).cacheHit).to.equal(true)
    const warnings: string[] = []
    const v = await buildData({pipeline: await load(), cacheDir, verify: true, log: {info: () => {}, warn: (m) => warnings.push(m), debug: () => {}}})
    expect(v.cacheHit).to.equal(false)
    expect(warnings.join('\n')).to.contain('train-00000.arrow does not match its manifest sha256')
    expect(fs.readFileSync(f).equals(whole)).to.equal(true)
    const again = await buildData({pipeline: await load(), cacheDir, verify: true})
    expect(again.cacheHit).to.equal(true)
  })

  it('data.seed in the pipeline pins the split: changing only `seed` reuses the same shards', async () => {
    const cacheDir = path.join(dir, 'cache')
    const a = await buildData({pipeline: await load(), cacheDir}) // seed 11
    const b = await buildData({pipeline: await load(['seed=5', 'data.seed=11']), cacheDir})
    expect(b.shardDir).to.equal(a.shardDir)
    expect(b.cacheHit).to.equal(true)
    const c = await buildData({pipeline: await load(['seed=5']), cacheDir})
    expect(c.shardDir).to.not.equal(a.shardDir)
    const bad = await load(['data.seed=-1']).then(() => null, (e: unknown) => e)
    expect(bad).to.be.instanceOf(ConfigError)
    expect((bad as Error).message).to.contain('data.seed')
  })

  it('inspects a shard directory: counts, histogram and decoded samples', async () => {
    const r = await buildData({pipeline: await load(), cacheDir: path.join(dir, 'cache')})
    const info = inspectShards({dir: r.shardDir, samples: 2, bins: 4})
    expect(info.train.sequences).to.equal(r.train.sequences)
    expect(info.train.histogram.map((b) => [b.from, b.to])).to.deep.equal([[1, 6], [7, 12], [13, 18], [19, 24]])
    expect(info.train.histogram.reduce((s, b) => s + b.count, 0)).to.equal(r.train.sequences)
    expect(info.samples.filter((s) => s.split === 'train')).to.have.length(2)
    expect(info.samples[0].text).to.match(/Sentence number/)
  })

  it('refuses a directory that is not a shard directory', () => {
    expect(() => inspectShards({dir})).to.throw(ConfigError, /not a shard directory/)
  })
})
