import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {defaultTokenizers} from '../../../src/data/default-tokenizers.js'
import {ConfigError} from '../../../src/errors.js'
import {startHubServer} from '../../helpers/hub-server.js'

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const spmFile = path.join(repoRoot, 'test/fixtures/tokenizer/spm.model')

describe('defaultTokenizers', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-tok-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('fetches only the tokenizer files of a hub model id and loads them', async () => {
    const hub = await startHubServer({
      repos: [{repo: 'org/tiny-deberta', files: {'spm.model': fs.readFileSync(spmFile), 'tokenizer_config.json': '{}', 'model.safetensors': Buffer.alloc(64)}}],
    })
    try {
      const p = defaultTokenizers({resolvePath: (x) => path.resolve(dir, x), hub: {endpoint: hub.url, cacheDir: path.join(dir, 'hf'), offline: false, env: {}}})
      const tok = await p.load({from: 'org/tiny-deberta'})
      expect(tok.special).to.include({pad: 0, cls: 1, sep: 2, unk: 3})
      expect(tok.encode('a short test').length).to.be.greaterThan(0)
      expect(hub.requests.some((r) => r.includes('model.safetensors'))).to.equal(false)
    } finally {
      await hub.close()
    }
  })

  it('rejects a value that is neither a folder nor a model id', async () => {
    const p = defaultTokenizers({resolvePath: (x) => path.resolve(dir, x)})
    const err = await p.load({from: 'no/such/folder'}).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('data.tokenizer_missing')
  })
})
