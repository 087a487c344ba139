import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {downloadDatasetParquet, pickSplitFiles} from '../../../src/hub/download-dataset-parquet.js'
import {RuntimeFailure} from '../../../src/errors.js'
import {type HubServer, startHubServer} from '../../helpers/hub-server.js'

const PQ = (tag: string) => Buffer.from(`PAR1${tag}PAR1`) // content is opaque to the downloader

describe('hub/download-dataset-parquet', () => {
  let cacheDir: string
  let hub: HubServer
  const env = {HF_TOKEN_PATH: join(tmpdir(), 'rtd-no-such-token')}
  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'rtd-pq-'))
    hub = await startHubServer({
      repos: [
        {repo: 'stanfordnlp/imdb', type: 'dataset', files: {'README.md': '# imdb', 'plain_text/train-00000-of-00001.parquet': PQ('train'), 'plain_text/unsupervised-00000-of-00001.parquet': PQ('unsup')}},
        {repo: 'org/scripted', type: 'dataset', files: {'scripted.py': 'print(1)'}},
        {repo: 'org/scripted', type: 'dataset', branches: ['refs/convert/parquet'], files: {'default/train/0000.parquet': PQ('c0'), 'default/train/0001.parquet': PQ('c1'), 'default/test/0000.parquet': PQ('t')}},
      ],
    })
  })
  afterEach(async () => {
    await hub.close()
    rmSync(cacheDir, {recursive: true, force: true})
  })

  it("picks a split's files in the datasets layouts, most specific first", () => {
    const files = ['plain_text/train-00000-of-00002.parquet', 'plain_text/train-00001-of-00002.parquet', 'plain_text/test-00000-of-00001.parquet', 'data/train-0.parquet']
    expect(pickSplitFiles({files, split: 'train'})).to.deep.equal(['plain_text/train-00000-of-00002.parquet', 'plain_text/train-00001-of-00002.parquet'])
    expect(pickSplitFiles({files: ['data/train-00000-of-00001.parquet'], split: 'train'})).to.deep.equal(['data/train-00000-of-00001.parquet'])
    expect(pickSplitFiles({files: ['default/train/0000.parquet'], config: 'default', split: 'train'})).to.deep.equal(['default/train/0000.parquet'])
    expect(pickSplitFiles({files, split: 'validation'})).to.deep.equal([])
    expect(() => pickSplitFiles({files: ['a/train-00000-of-00001.parquet', 'b/train-00000-of-00001.parquet'], split: 'train'})).to.throw(/several configs \(a, b\)/)
  })

  it("downloads the dataset's own Parquet files for a split (stanfordnlp/imdb layout)", async () => {
    const r = await downloadDatasetParquet({repo: 'stanfordnlp/imdb', split: 'unsupervised', endpoint: hub.url, cacheDir, env})
    expect(r.files).to.deep.equal(['plain_text/unsupervised-00000-of-00001.parquet'])
    expect(readFileSync(join(r.snapshotDir, r.files[0]), 'utf8')).to.equal('PAR1unsupPAR1')
    expect(r.snapshotDir).to.include(join('datasets--stanfordnlp--imdb', 'snapshots'))
  })

  it('falls back to the refs/convert/parquet branch and records refs/refs/convert/parquet like Python', async () => {
    const r = await downloadDatasetParquet({repo: 'org/scripted', split: 'train', endpoint: hub.url, cacheDir, env})
    expect(r.files).to.deep.equal(['default/train/0000.parquet', 'default/train/0001.parquet'])
    const branchSha = hub.repos[2].sha
    expect(r.revision).to.equal(branchSha)
    expect(readFileSync(join(cacheDir, 'datasets--org--scripted', 'refs', 'refs', 'convert', 'parquet'), 'utf8')).to.equal(branchSha)
    // and the same split comes from the cache when offline
    const off = await downloadDatasetParquet({repo: 'org/scripted', split: 'train', cacheDir, env: {HF_HUB_OFFLINE: '1'}})
    expect(off.files).to.deep.equal(r.files)
    expect(off.revision).to.equal(branchSha)
  })

  it('names the split and what the dataset has when there is no such split', async () => {
    const err = await downloadDatasetParquet({repo: 'stanfordnlp/imdb', split: 'validation', endpoint: hub.url, cacheDir, env}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).code).to.equal('hub.no_split')
    expect((err as RuntimeFailure).message).to.include('split validation').and.include('plain_text/train-00000-of-00001.parquet')
  })

  it('offline with nothing cached: the not-cached error, with what to do', async () => {
    const err = await downloadDatasetParquet({repo: 'stanfordnlp/imdb', split: 'train', cacheDir, env: {HF_HUB_OFFLINE: '1'}}).catch((e: unknown) => e)
    expect((err as RuntimeFailure).code).to.equal('hub.not_cached')
    expect((err as RuntimeFailure).suggestions.join('\n')).to.include('huggingface-cli download --repo-type dataset stanfordnlp/imdb')
  })
})
