import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {parquetWriteBuffer} from 'hyparquet-writer'
import {prepareData, type DataOptions} from '../../../src/data/prepare-data.js'
import {defaultTokenizers} from '../../../src/data/default-tokenizers.js'
import {RtdError} from '../../../src/errors.js'
import {startHubServer, type HubServer} from '../../helpers/hub-server.js'

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const spmDir = path.join(repoRoot, 'test/fixtures/tokenizer')

const parquet = (texts: string[]) =>
  Buffer.from(parquetWriteBuffer({columnData: [{name: 'text', data: texts, type: 'STRING'}, {name: 'label', data: texts.map(() => -1), type: 'INT32'}]}))

describe('hub dataset source', () => {
  let dir: string
  let hub: HubServer
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-hubdata-'))
    hub = await startHubServer({
      repos: [
        {
          repo: 'stanfordnlp/imdb',
          type: 'dataset',
          files: {
            'plain_text/unsupervised-00000-of-00001.parquet': parquet(Array.from({length: 20}, (_, i) => `unlabeled review ${i} of a film`)),
            'plain_text/train-00000-of-00001.parquet': parquet(['a train review that must not be read']),
            'README.md': '# imdb',
          },
        },
      ],
    })
  })
  afterEach(async () => {
    await hub.close()
    fs.rmSync(dir, {recursive: true, force: true})
  })

  const options = (column = 'text'): DataOptions => ({
    source: {hub: 'stanfordnlp/imdb', split: 'unsupervised', column},
    tokenizer: {from: spmDir},
    max_length: 16,
    packing: 'truncate',
    eval_fraction: 0.1,
    shard_rows: 100,
  })
  const run = (params: {offline?: boolean; hfCache?: string; column?: string}) =>
    prepareData({
      options: options(params.column),
      cacheDir: path.join(dir, 'rtd-cache'),
      seed: 1,
      resolvePath: (p) => path.resolve(dir, p),
      tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(dir, p)}),
      hub: {endpoint: hub.url, cacheDir: params.hfCache ?? path.join(dir, 'hf'), offline: params.offline ?? false, env: {}},
    })

  it('downloads the split\'s Parquet files into the HF cache and shards only that split', async () => {
    const d = await run({})
    expect(d.manifest.train.documents + d.manifest.eval!.documents).to.equal(20)
    const text = Array.from({length: d.train.rows}, (_, i) => d.tokenizer.decode(d.train.row(i))).join(' ')
    expect(text).to.contain('unlabeled review')
    expect(text).to.not.contain('must not be read')
    expect(fs.readdirSync(path.join(dir, 'hf'))).to.include('datasets--stanfordnlp--imdb')
    expect((d.manifest.keyInputs.source as any).fingerprint.revision).to.match(/^[0-9a-f]{40}$/)
  })

  it('works offline from the cache once downloaded, reusing the shards', async () => {
    const first = await run({})
    await hub.close()
    const again = await run({offline: true})
    expect(again.cacheHit).to.equal(true)
    expect(again.shardDir).to.equal(first.shardDir)
  })

  it('says what to do when the dataset is not cached and the hub is offline', async () => {
    const err = await run({offline: true, hfCache: path.join(dir, 'empty-hf')}).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(RtdError)
    expect((err as RtdError).message).to.contain('stanfordnlp/imdb')
    expect((err as RtdError).suggestions.join(' ')).to.match(/HF_HUB_OFFLINE|online|download/i)
  })

  it('lists the dataset\'s columns when the column is wrong', async () => {
    const err = await run({column: 'review'}).catch((e: unknown) => e)
    expect((err as RtdError).code).to.equal('data.column_missing')
    expect((err as Error).message).to.contain('"text"').and.contain('"label"')
  })
})
