import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {resolveHubSettings} from '../../../src/hub/hub-settings.js'

describe('hub/hub-settings', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-hs-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('uses the huggingface_hub cache precedence: HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache', () => {
    expect(resolveHubSettings({env: {HF_HUB_CACHE: '/c', HF_HOME: '/h'}}).cacheDir).to.equal('/c')
    expect(resolveHubSettings({env: {HF_HOME: '/h', XDG_CACHE_HOME: '/x'}}).cacheDir).to.equal(join('/h', 'hub'))
    expect(resolveHubSettings({env: {XDG_CACHE_HOME: '/x'}}).cacheDir).to.equal(join('/x', 'huggingface', 'hub'))
    expect(resolveHubSettings({env: {HF_HOME: dir}}).cacheDir).to.equal(join(dir, 'hub'))
    expect(resolveHubSettings({env: {HF_TOKEN_PATH: join(dir, 'none')}}).cacheDir).to.equal(join(homedir(), '.cache', 'huggingface', 'hub'))
    expect(resolveHubSettings({cacheDir: '/explicit', env: {HF_HUB_CACHE: '/c'}}).cacheDir).to.equal('/explicit')
  })

  it('reads HF_ENDPOINT (trailing slash dropped) and defaults to huggingface.co', () => {
    expect(resolveHubSettings({env: {HF_ENDPOINT: 'http://mirror:8080/'}}).endpoint).to.equal('http://mirror:8080')
    expect(resolveHubSettings({env: {HF_HOME: dir}}).endpoint).to.equal('https://huggingface.co')
  })

  it('treats HF_HUB_OFFLINE 1/true/yes/on (any case) as offline and anything else as online', () => {
    for (const v of ['1', 'TRUE', 'yes', 'On']) expect(resolveHubSettings({env: {HF_HUB_OFFLINE: v, HF_HOME: dir}}).offline, v).to.equal(true)
    for (const v of ['0', 'false', '', 'no']) expect(resolveHubSettings({env: {HF_HUB_OFFLINE: v, HF_HOME: dir}}).offline, v).to.equal(false)
    expect(resolveHubSettings({offline: false, env: {HF_HUB_OFFLINE: '1', HF_HOME: dir}}).offline).to.equal(false)
  })

  it('takes the token from the option, then HF_TOKEN, then the token file under HF_HOME', () => {
    writeFileSync(join(dir, 'token'), 'hf_file\n')
    expect(resolveHubSettings({env: {HF_HOME: dir}}).token).to.equal('hf_file')
    expect(resolveHubSettings({env: {HF_HOME: dir, HF_TOKEN: 'hf_env'}}).token).to.equal('hf_env')
    expect(resolveHubSettings({token: 'hf_opt', env: {HF_HOME: dir, HF_TOKEN: 'hf_env'}}).token).to.equal('hf_opt')
    expect(resolveHubSettings({env: {HF_HOME: join(dir, 'empty')}}).token).to.equal(undefined)
  })
})
