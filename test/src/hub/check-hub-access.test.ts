import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkHubDatasetSplit, checkHubModel} from '../../../src/hub/check-hub-access.js'
import {downloadRepoFiles} from '../../../src/hub/download-repo-files.js'
import {ConfigError} from '../../../src/errors.js'
import {type HubServer, startHubServer} from '../../helpers/hub-server.js'

describe('hub/check-hub-access (rtd run pre-flight)', () => {
  let cacheDir: string
  let hub: HubServer
  const env = {HF_TOKEN_PATH: join(tmpdir(), 'rtd-no-such-token')}
  const site = {file: 'p.yaml', option: 'model.from'}
  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'rtd-hub-check-'))
    hub = await startHubServer({
      repos: [
        {repo: 'org/gated', files: {'config.json': '{}', 'model.safetensors': Buffer.alloc(1000, 1)}},
        {repo: 'org/data', type: 'dataset', files: {'plain_text/train-00000-of-00001.parquet': Buffer.from('PAR1')}},
      ],
      token: 'hf_secret',
    })
  })
  afterEach(async () => {
    await hub.close()
    rmSync(cacheDir, {recursive: true, force: true})
  })

  it('with access: passes after metadata requests only, downloading nothing', async () => {
    await checkHubModel({...site, repo: 'org/gated', endpoint: hub.url, token: 'hf_secret', cacheDir, env, include: (f) => f.endsWith('.json') || f.endsWith('.safetensors')})
    await checkHubDatasetSplit({...site, option: 'data.source.hub', repo: 'org/data', split: 'train', endpoint: hub.url, token: 'hf_secret', cacheDir, env})
    expect(hub.requests.length).to.be.greaterThan(0)
    expect(hub.requests.filter((r) => !r.startsWith('GET /api/'))).to.deep.equal([])
    expect(existsSync(join(cacheDir, 'models--org--gated', 'blobs'))).to.equal(false)
  })

  it('without the token: a ConfigError (exit 2) located at the option, with the 401 and the HF_TOKEN advice', async () => {
    const err = await checkHubModel({...site, repo: 'org/gated', endpoint: hub.url, cacheDir, env}).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).exitCode).to.equal(2)
    expect((err as ConfigError).code).to.equal('hub.unauthorized')
    expect((err as ConfigError).message).to.match(/^p\.yaml: model\.from: listing model org\/gated@main failed: HTTP 401/)
    expect((err as ConfigError).suggestions.join('\n')).to.contain('HF_TOKEN')
  })

  it('offline: passes when the cache holds the files, and names what is missing when it does not', async () => {
    const offline = {...site, repo: 'org/gated', endpoint: hub.url, cacheDir, env, offline: true}
    const missing = await checkHubModel(offline).catch((e: unknown) => e)
    expect((missing as ConfigError).code).to.equal('hub.not_cached')
    expect((missing as ConfigError).message).to.match(/^p\.yaml: model\.from: model org\/gated@main is not in the Hugging Face cache/)
    await downloadRepoFiles({repo: 'org/gated', endpoint: hub.url, token: 'hf_secret', cacheDir, env, files: ['config.json']})
    await checkHubModel({...offline, include: (f) => f === 'config.json'})
    const noWeights = await checkHubModel({...offline, include: (f) => f.endsWith('.safetensors')}).catch((e: unknown) => e)
    expect((noWeights as ConfigError).message).to.contain('no matching files in the Hugging Face cache')
  })
})
