import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {type HubServer, startHubServer} from '../helpers/hub-server.js'
import {repoRoot, runCli} from '../helpers/run-cli.js'

const fx = path.join(repoRoot, 'test/fixtures/pipelines')

/** rtd run's pre-flight (src/pipeline/preflight.ts): each case exits 2, says where and what to do, and writes no run directory. */
describe('rtd run pre-flight', function () {
  this.timeout(120_000) // CLI processes on a loaded machine
  let tmp: string
  let hub: HubServer | undefined
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-preflight-'))
  })
  afterEach(async () => {
    await hub?.close()
    hub = undefined
    fs.rmSync(tmp, {recursive: true, force: true})
  })

  const runs = () => path.join(tmp, 'runs')
  /** A hub environment of its own: no token from the user's HF_HOME, an empty cache. */
  const hubEnv = (extra: Record<string, string> = {}) => ({HF_HOME: path.join(tmp, 'hf'), HF_HUB_CACHE: path.join(tmp, 'hf', 'hub'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '0', RTD_CACHE: path.join(tmp, 'cache'), ...extra})
  const writePipeline = (text: string) => {
    const file = path.join(tmp, 'p.yaml')
    fs.writeFileSync(file, text)
    fs.copyFileSync(path.join(fx, 'corpus.txt'), path.join(tmp, 'corpus.txt'))
    return file
  }
  const hubData = 'name: preflight-hub\ndata:\n  plugin: text\n  source: {hub: org/private, split: train}\n  tokenizer: {train: {type: wordpiece, vocab_size: 100}}\n'

  it('runtime.backend: tensorflow without @tensorflow/tfjs-node: exit 2 naming the option and the install, before the data stage and the run directory', async () => {
    const r = await runCli({args: ['run', path.join(fx, 'valid.yaml'), `output.dir=${runs()}`, 'runtime.backend=tensorflow']})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/Error \(runtime\.tensorflow_missing\): \S*valid\.yaml: runtime\.backend 'tensorflow' needs @tensorflow\/tfjs-node/)
    expect(r.stderr).to.contain('npm install @tensorflow/tfjs-node@')
    expect(fs.existsSync(runs()), 'no run directory').to.equal(false)
  })

  it('a gated hub dataset without HF_TOKEN: the 401 of the first metadata request exits 2 naming data.source.hub and HF_TOKEN; with the token the run starts', async () => {
    hub = await startHubServer({repos: [{repo: 'org/private', type: 'dataset', files: {'data/train-00000-of-00001.parquet': Buffer.from('PAR1')}}], token: 'hf_secret'})
    const file = writePipeline(hubData)
    const r = await runCli({args: ['run', file, `output.dir=${runs()}`], env: hubEnv({HF_ENDPOINT: hub.url})})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/Error \(hub\.unauthorized\): \S*p\.yaml: data\.source\.hub: listing dataset org\/private@main failed: HTTP 401/)
    expect(r.stderr).to.contain('set HF_TOKEN')
    expect(fs.existsSync(runs()), 'no run directory').to.equal(false)
    expect(hub.requests.every((q) => q.startsWith('GET /api/')), 'metadata requests only').to.equal(true)

    // with the token the pre-flight passes (the run then fails on the fake Parquet bytes, in its run directory)
    const ok = await runCli({args: ['run', file, `output.dir=${runs()}`], env: hubEnv({HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret'})})
    expect(ok.stderr).not.to.contain('hub.unauthorized')
    expect(fs.readdirSync(runs())).to.have.length(1)
  })

  it('HF_HUB_OFFLINE=1 with the dataset not cached: exit 2 naming data.source.hub and how to fetch it', async () => {
    const file = writePipeline(hubData)
    const r = await runCli({args: ['run', file, `output.dir=${runs()}`], env: hubEnv({HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9'})})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/Error \(hub\.not_cached\): \S*p\.yaml: data\.source\.hub: dataset org\/private@main is not in the Hugging Face cache \(.*\) and HF_HUB_OFFLINE is set/)
    expect(r.stderr).to.contain('huggingface-cli download --repo-type dataset org/private')
    expect(fs.existsSync(runs()), 'no run directory').to.equal(false)
  })

  it('HF_HUB_OFFLINE=1 with the model.from repo not cached: exit 2 naming model.from, before the data stage', async () => {
    const file = writePipeline(
      'name: preflight-model\ndata:\n  plugin: text\n  source: {files: corpus.txt}\n  tokenizer: {train: {type: wordpiece, vocab_size: 100}}\nmodel:\n  plugin: gdes\n  from: org/some-model\n',
    )
    const r = await runCli({args: ['run', file, `output.dir=${runs()}`], env: hubEnv({HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9'})})
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/Error \(hub\.not_cached\): \S*p\.yaml: model\.from: model org\/some-model@main is not in the Hugging Face cache/)
    expect(fs.existsSync(runs()), 'no run directory').to.equal(false)
    expect(fs.existsSync(path.join(tmp, 'cache', 'shards')), 'the data stage did not run').to.equal(false)
  })
})
