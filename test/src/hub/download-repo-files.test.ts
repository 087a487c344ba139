import {expect} from 'chai'
import {existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {downloadRepoFiles} from '../../../src/hub/download-repo-files.js'
import {RuntimeFailure} from '../../../src/errors.js'
import {type HubServer, startHubServer} from '../../helpers/hub-server.js'
import {writeTorchBin} from '../../helpers/torch-bin-writer.js'
import {loadModelFolder} from '../../../src/checkpoint/model-folder.js'

const CONFIG = '{"model_type": "deberta-v2"}'
const WEIGHTS = Buffer.alloc(50_000, 7)
const SHA = 'a'.repeat(40)

describe('hub/download-repo-files', () => {
  let cacheDir: string
  let hub: HubServer
  const env = {HF_TOKEN_PATH: join(tmpdir(), 'rtd-no-such-token')} // never read the developer's HF_* variables or token
  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'rtd-hub-'))
    hub = await startHubServer({
      repos: [{repo: 'microsoft/tiny', sha: SHA, files: {'config.json': CONFIG, 'pytorch_model.bin': WEIGHTS, 'sub/dir/notes.txt': 'hi'}}],
    })
  })
  afterEach(async () => {
    await hub.close()
    rmSync(cacheDir, {recursive: true, force: true})
  })

  it('downloads into the huggingface_hub cache layout (blobs, snapshot symlinks, refs)', async () => {
    const r = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
    const repoDir = join(cacheDir, 'models--microsoft--tiny')
    expect(r).to.deep.include({revision: SHA, snapshotDir: join(repoDir, 'snapshots', SHA), fromCache: false})
    expect(r.files).to.have.members(['config.json', 'pytorch_model.bin', 'sub/dir/notes.txt'])
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).to.equal(SHA)
    expect(readFileSync(join(r.snapshotDir, 'config.json'), 'utf8')).to.equal(CONFIG)
    // LFS file: blob named by sha256, reached through a relative symlink
    const oid = createHash('sha256').update(WEIGHTS).digest('hex')
    const link = join(r.snapshotDir, 'pytorch_model.bin')
    expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    expect(readlinkSync(link)).to.equal(`../../blobs/${oid}`)
    expect(readlinkSync(join(r.snapshotDir, 'sub/dir/notes.txt'))).to.match(/^\.\.\/\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/)
    // regular file: blob named by the git blob sha1 ETag
    const gitSha = createHash('sha1').update(`blob ${CONFIG.length}\0`).update(CONFIG).digest('hex')
    expect(readdirSync(join(repoDir, 'blobs')).sort()).to.include(gitSha).and.include(oid)
    expect(readdirSync(join(repoDir, 'blobs')).some((b) => b.includes('incomplete'))).to.equal(false)
  })

  it('fetches only the named files, or those include() accepts', async () => {
    const a = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, files: ['config.json']})
    expect(a.files).to.deep.equal(['config.json'])
    expect(existsSync(join(a.snapshotDir, 'pytorch_model.bin'))).to.equal(false)
    const b = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, include: (p) => p.endsWith('.txt')})
    expect(b.files).to.deep.equal(['sub/dir/notes.txt'])
  })

  it('does not download a cached file again', async () => {
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
    hub.requests.length = 0
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
    expect(hub.requests).to.deep.equal(['GET /api/models/microsoft/tiny/revision/main'])
  })

  it('resolves refs/main from the cache when the hub is unreachable, and when HF_HUB_OFFLINE=1', async () => {
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
    const endpoint = hub.url
    await hub.close()
    const down = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint, cacheDir, env, files: ['config.json']})
    expect(down).to.deep.include({revision: SHA, fromCache: true, files: ['config.json']})
    const off = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint, cacheDir, env: {HF_HUB_OFFLINE: '1'}})
    expect(off.fromCache).to.equal(true)
    expect(off.files).to.have.members(['config.json', 'pytorch_model.bin', 'sub/dir/notes.txt'])
    expect(readFileSync(join(off.snapshotDir, 'pytorch_model.bin')).equals(WEIGHTS)).to.equal(true)
  })

  it('with HF_HUB_OFFLINE=1 makes no request at all', async () => {
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
    hub.requests.length = 0
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env: {HF_HUB_OFFLINE: 'true'}, files: ['config.json']})
    expect(hub.requests).to.deep.equal([])
  })

  it('offline with a file missing from the cache: one clear error that says what to do', async () => {
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, files: ['config.json']})
    const err = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env: {HF_HUB_OFFLINE: '1'}, files: ['config.json', 'pytorch_model.bin']}).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(RuntimeFailure)
    const e = err as RuntimeFailure
    expect(e.code).to.equal('hub.not_cached')
    expect(e.message).to.include('pytorch_model.bin').and.include('HF_HUB_OFFLINE')
    expect(e.suggestions.join('\n')).to.include('Unset HF_HUB_OFFLINE').and.include('huggingface-cli download microsoft/tiny pytorch_model.bin')
  })

  it('offline with a repo never cached names the repo and the cache', async () => {
    const err = await downloadRepoFiles({repo: 'org/never', repoType: 'dataset', cacheDir, env: {HF_HUB_OFFLINE: '1'}}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).message).to.include('dataset org/never@main is not in the Hugging Face cache')
    expect((err as RuntimeFailure).suggestions.join('\n')).to.include('--repo-type dataset')
  })

  it('forwards the token as Authorization: Bearer (from HF_TOKEN too) and fails clearly without it', async () => {
    await hub.close()
    hub = await startHubServer({token: 'hf_secret', repos: [{repo: 'org/private', files: {'config.json': CONFIG, 'w.safetensors': WEIGHTS}}]})
    const r = await downloadRepoFiles({repo: 'org/private', endpoint: hub.url, cacheDir, env: {HF_TOKEN: 'hf_secret'}})
    expect(r.files).to.have.length(2)
    const hubCalls = hub.requests.map((q, i) => [q, hub.authorizations[i]] as const).filter(([q]) => !q.includes('/cdn/'))
    expect(hubCalls.length).to.be.greaterThan(0)
    for (const [, auth] of hubCalls) expect(auth).to.equal('Bearer hf_secret')
    const err = await downloadRepoFiles({repo: 'org/private', endpoint: hub.url, cacheDir: join(cacheDir, 'other'), env}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).code).to.equal('hub.unauthorized')
    expect((err as RuntimeFailure).suggestions.join()).to.include('HF_TOKEN')
  })

  it('reports a file the repository does not have, listing what it has', async () => {
    const err = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, files: ['model.safetensors']}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).code).to.equal('hub.no_such_file')
    expect((err as RuntimeFailure).message).to.include('model.safetensors').and.include('pytorch_model.bin')
  })

  it('reports an unknown repository as a 404 with the URL', async () => {
    const err = await downloadRepoFiles({repo: 'org/missing', endpoint: hub.url, cacheDir, env}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).code).to.equal('hub.not_found')
    expect((err as RuntimeFailure).message).to.include('RepoNotFound').and.include('/api/models/org/missing/revision/main')
  })

  for (const mode of ['truncate', 'corrupt', 'status500'] as const) {
    it(`never leaves a trusted blob or link after a failed download (${mode}), and a retry succeeds`, async () => {
      hub.failNext('pytorch_model.bin', mode)
      const err = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, concurrency: 1}).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(RuntimeFailure)
      const repoDir = join(cacheDir, 'models--microsoft--tiny')
      const oid = createHash('sha256').update(WEIGHTS).digest('hex')
      expect(existsSync(join(repoDir, 'blobs', oid))).to.equal(false)
      expect(readdirSync(join(repoDir, 'blobs')).filter((b) => b.includes('incomplete'))).to.deep.equal([])
      expect(existsSync(join(repoDir, 'snapshots', SHA, 'pytorch_model.bin'))).to.equal(false)
      // offline now: the missing file is reported, not served half-written
      const off = await downloadRepoFiles({repo: 'microsoft/tiny', cacheDir, env: {HF_HUB_OFFLINE: '1'}, files: ['pytorch_model.bin']}).catch((e: unknown) => e)
      expect((off as RuntimeFailure).code).to.equal('hub.not_cached')
      const r = await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env})
      expect(readFileSync(join(r.snapshotDir, 'pytorch_model.bin')).equals(WEIGHTS)).to.equal(true)
    })
  }

  it('gives a snapshot folder that loadModelFolder reads through the symlinks', async () => {
    await hub.close()
    const bin = join(cacheDir, 'src.bin')
    writeTorchBin(bin, {'deberta.embeddings.LayerNorm.weight': {dtype: 'F16', shape: [2], storage: [0.5, 2]}})
    hub = await startHubServer({repos: [{repo: 'microsoft/deberta-v3-tiny', files: {'config.json': CONFIG, 'pytorch_model.bin': readFileSync(bin), 'tf_model.h5': 'x'}}]})
    const r = await downloadRepoFiles({repo: 'microsoft/deberta-v3-tiny', endpoint: hub.url, cacheDir, env, include: (p) => !p.endsWith('.h5')})
    const m = loadModelFolder({dir: r.snapshotDir})
    expect(m.format).to.equal('pytorch')
    expect(m.config).to.deep.equal({model_type: 'deberta-v2'})
    expect([...m.tensors.get('deberta.embeddings.LayerNorm.weight')!.data]).to.deep.equal([0.5, 2])
  })

  it('reports progress per file, marking cache hits', async () => {
    const events: {file: string; done: boolean; cached?: boolean}[] = []
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, files: ['pytorch_model.bin'], onProgress: (p) => events.push(p)})
    expect(events.at(-1)).to.deep.include({file: 'pytorch_model.bin', done: true})
    events.length = 0
    await downloadRepoFiles({repo: 'microsoft/tiny', endpoint: hub.url, cacheDir, env, files: ['pytorch_model.bin'], onProgress: (p) => events.push(p)})
    expect(events).to.deep.equal([{file: 'pytorch_model.bin', bytes: 0, done: true, cached: true}])
  })
})

describe('hub/download-repo-files with a renamed repository', () => {
  let cacheDir: string
  let hub: HubServer
  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'rtd-hub-'))
    hub = await startHubServer({token: 't', renamed: {'old/name': 'new/name'}, repos: [{repo: 'new/name', sha: SHA, files: {'config.json': CONFIG, 'model.safetensors': WEIGHTS}}]})
  })
  afterEach(async () => {
    await hub.close()
    rmSync(cacheDir, {recursive: true, force: true})
  })

  it('follows the relative redirects with the token and caches under the requested name', async () => {
    const r = await downloadRepoFiles({repo: 'old/name', endpoint: hub.url, cacheDir, env: {HF_TOKEN_PATH: join(tmpdir(), 'rtd-no-such-token')}, token: 't'})
    expect(r.snapshotDir).to.equal(join(cacheDir, 'models--old--name', 'snapshots', SHA))
    expect(readFileSync(join(r.snapshotDir, 'model.safetensors')).equals(WEIGHTS)).to.equal(true)
    expect(readFileSync(join(r.snapshotDir, 'config.json'), 'utf8')).to.equal(CONFIG)
    expect(hub.requests).to.include(`GET /new/name/resolve/${SHA}/model.safetensors`)
    expect(hub.authorizations.every((a) => a === 'Bearer t')).to.equal(true)
  })
})
