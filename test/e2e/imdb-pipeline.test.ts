/**
 * pipelines/imdb-*.yaml: they validate with the seed project's quick-start values, and their
 * data and model paths work against the local hub server (test/helpers/hub-server.ts) serving a
 * stanfordnlp/imdb-shaped dataset and a small stand-in for microsoft/deberta-v3-base (real
 * layout: config.json, model.safetensors, spm.model, tokenizer_config.json) with deberta-v3-base's
 * depth and heads (12 layers, 12 heads; width and vocabulary shrunk for time). The seed's quick
 * start runs on it end to end on the native backend (issue 10).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'
import {parquetWriteBuffer} from 'hyparquet-writer'

import {writeSafetensors, type TensorToWrite} from '../../src/checkpoint/index.js'
import {loadPipeline} from '../../src/pipeline/load-pipeline.js'
import {RtdPair, v3Config} from '../../src/model/index.js'
import {exportRtdPair} from '../../src/pretrain/index.js'
import {initBackend} from '../../src/runtime/backend.js'
import {hasNativeBackendKernels, loadNativeKernels} from '../../src/runtime/native/load-native.js'
import {startHubServer, type HubServer} from '../helpers/hub-server.js'
import {runCli} from '../helpers/run-cli.js'
import {pipelineFile, readMetrics, repoRoot, runDirOf, tensorsOf} from './tiny-fixture.js'
import {architecture as debertaV3} from '../../plugins/deberta-v3/deberta-v3-networks.js'

const spmModel = path.join(repoRoot, 'test', 'fixtures', 'tokenizer', 'spm.model') // 2000 pieces, DeBERTa-v3 special ids

describe('e2e: imdb pipelines', function () {
  this.timeout(120_000)

  it('rtd validate accepts imdb-gdes.yaml', async () => {
    const r = await runCli({args: ['validate', pipelineFile('imdb-gdes'), '--json']})
    expect(r.code, r.stderr).to.equal(0)
    const p = JSON.parse(r.stdout).pipeline
    expect(p.data.source).to.include({hub: 'stanfordnlp/imdb', split: 'unsupervised'})
    expect(p.data.tokenizer).to.deep.equal({from: 'microsoft/deberta-v3-base'})
    expect(p.data.eval_fraction).to.equal(0.1)
    expect(p.model).to.include({plugin: 'gdes', from: 'microsoft/deberta-v3-base', embedding_sharing: 'gdes'})
    expect(p.loss.lambda).to.equal(0.5)
    expect(p.schedule).to.include({epochs: 5, batch_size: 8})
    expect(p.schedule.optimizer).to.include({lr: 2e-5, weight_decay: 0.01})
    expect(p.schedule.lr_schedule).to.include({type: 'exponential', gamma: 0.9})
    expect(p.schedule.eval_every).to.be.greaterThan(0)
  })

  it('the ablation files differ from imdb-gdes.yaml only where they say', async () => {
    const load = async (name: string) => (await loadPipeline({file: pipelineFile(name)})).value as Record<string, any>
    const gdes = await load('imdb-gdes')
    for (const [name, sharing] of [['imdb-es', 'es'], ['imdb-nes', 'nes']] as const) {
      const p = await load(name)
      expect(p.name).to.equal(name)
      expect(p.model.embedding_sharing).to.equal(sharing)
      expect({...p, name: gdes.name, model: {...p.model, embedding_sharing: 'gdes'}}).to.deep.equal(gdes)
    }
    const mlm = await load('imdb-mlm')
    expect(mlm.model).to.deep.equal({plugin: 'mlm', architecture: 'deberta-v3', from: 'microsoft/deberta-v3-base', mask: gdes.model.mask})
    expect({...mlm, name: gdes.name, model: gdes.model}).to.deep.equal(gdes)
    for (const [name, plugin] of [['tiny-es', 'gdes'], ['tiny-nes', 'gdes'], ['tiny-mlm', 'mlm']] as const) expect((await load(name)).model.plugin).to.equal(plugin)
  })

  describe('against the local hub server', () => {
    let tmp: string
    let hub: HubServer
    let env: Record<string, string>
    const reviews = Array.from({length: 200}, (_, i) => `Review ${i}: this film was ${i % 3 === 0 ? 'great' : 'not good'}, the actors and the plot ${i % 2 ? 'worked' : 'did not work'} for me.`)

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-imdb-'))
      // a stand-in for microsoft/deberta-v3-base (its 12 layers and 12 heads, narrow), exported the way rtd exports (HF layout)
      await initBackend({backend: 'cpu'})
      const disc = v3Config({vocabSize: 2048, hiddenSize: 48, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 96, positionBuckets: 256, maxPositionEmbeddings: 512})
      const pair = new RtdPair({architecture: debertaV3, discriminator: disc, generator: {...disc, numHiddenLayers: 1}, sharing: 'gdes', seed: 3, maskTokenId: 2000})
      const modelDir = path.join(tmp, 'model')
      fs.mkdirSync(path.join(tmp, 'tok'))
      fs.copyFileSync(spmModel, path.join(tmp, 'tok', 'spm.model'))
      exportRtdPair({pair, dir: modelDir, tokenizerDir: path.join(tmp, 'tok')})
      pair.dispose()
      // like Microsoft's released discriminator files, the weights carry an lm_predictions head too (SPEC B.4)
      const weights = tensorsOf(path.join(modelDir, 'model.safetensors'))
      for (const [k, v] of tensorsOf(path.join(modelDir, 'generator', 'model.safetensors'))) if (k.startsWith('lm_predictions.')) weights.set(k, v)
      writeSafetensors(path.join(modelDir, 'model.safetensors'), weights as Map<string, TensorToWrite>)
      const parquet = (texts: string[]) => Buffer.from(parquetWriteBuffer({columnData: [{name: 'text', data: texts, type: 'STRING'}, {name: 'label', data: texts.map(() => -1), type: 'INT32'}]}))
      hub = await startHubServer({
        repos: [
          {
            repo: 'stanfordnlp/imdb',
            type: 'dataset',
            files: {
              'plain_text/unsupervised-00000-of-00001.parquet': parquet(reviews),
              'plain_text/train-00000-of-00001.parquet': parquet(['a labelled review that must not be read']),
              'plain_text/test-00000-of-00001.parquet': parquet(['a test review that must not be read']),
              'README.md': '# imdb',
            },
          },
          {
            repo: 'microsoft/deberta-v3-base',
            files: {
              'config.json': fs.readFileSync(path.join(modelDir, 'config.json')),
              'model.safetensors': fs.readFileSync(path.join(modelDir, 'model.safetensors')),
              'spm.model': fs.readFileSync(spmModel),
              'tokenizer_config.json': JSON.stringify({do_lower_case: false, vocab_type: 'spm'}),
              'README.md': '# stand-in',
            },
          },
        ],
      })
      env = {HF_ENDPOINT: hub.url, HF_HOME: path.join(tmp, 'hf-home'), HF_HUB_CACHE: path.join(tmp, 'hf'), HF_TOKEN: '', HF_HUB_OFFLINE: '', RTD_CACHE: path.join(tmp, 'rtd-cache')}
    })

    after(async () => {
      await hub?.close()
      fs.rmSync(tmp, {recursive: true, force: true})
    })

    // first in this block: nothing is cached yet, so what plan fetches shows
    it('rtd plan imdb-gdes.yaml fetches only config.json and prints the memory per part', async () => {
      const before = hub.requests.length
      const r = await runCli({args: ['plan', pipelineFile('imdb-gdes')], env})
      expect(r.code, r.stderr + r.stdout).to.equal(0)
      for (const part of ['weights', 'gradients', 'optimizer', 'activations', 'TFLOP per step']) expect(r.stdout).to.contain(part)
      expect(r.stdout).to.contain('discriminator 12 layers, generator 6')
      const gets = hub.requests.slice(before).filter((q) => q.startsWith('GET') && q.includes('/resolve/'))
      expect(gets.length).to.be.greaterThan(0)
      for (const q of gets) expect(q, 'plan downloads nothing but config.json').to.match(/\/config\.json/)
    })

    it('rtd data build reads only the unsupervised split, tokenizes with the model\'s spm.model and holds out 10%', async () => {
      const r = await runCli({args: ['data', 'build', pipelineFile('imdb-gdes'), '--json'], env})
      expect(r.code, r.stderr).to.equal(0)
      const out = JSON.parse(r.stdout) as {train: {documents: number}; eval: {documents: number; sequences: number}; maxLength: number; tokenizerDir: string}
      expect(out.train.documents + out.eval.documents).to.equal(reviews.length)
      expect(out.eval.documents).to.be.within(10, 30)
      expect(out.eval.sequences).to.be.greaterThan(0)
      expect(out.maxLength).to.equal(128)
      expect(fs.readdirSync(out.tokenizerDir)).to.include('tokenizer.json') // spm.model converted (SPEC B.5)
      const gets = hub.requests.filter((q) => q.startsWith('GET') && q.includes('/resolve/'))
      expect(gets.some((q) => q.includes('unsupervised-00000-of-00001.parquet'))).to.equal(true)
      expect(gets.filter((q) => /\/(train|test)-0000/.test(q))).to.deep.equal([])
      expect(gets.some((q) => q.includes('spm.model'))).to.equal(true)
      expect(gets.filter((q) => q.includes('model.safetensors')), 'data build fetches no weights').to.deep.equal([])
    })

    it('rtd run imdb-gdes.yaml (shortened) starts from the hub model and exports deberta_v3_base_gdes', async () => {
      const outputDir = path.join(tmp, 'runs')
      const short = ['~schedule.epochs', 'schedule.max_steps=3', 'schedule.batch_size=2', 'schedule.log_every=1', 'evaluation.max_batches=1', `output.dir=${outputDir}`]
      const r = await runCli({args: ['run', pipelineFile('imdb-gdes'), ...short, '--json'], env})
      expect(r.code, r.stderr + r.stdout).to.equal(0)
      const runDir = runDirOf(outputDir, 'imdb-gdes')
      const train = readMetrics(runDir).filter((m) => m.type === 'train')
      expect(train.map((m) => [m.step, m.lambda])).to.deep.equal([
        [1, 0.5],
        [2, 0.5],
        [3, 0.5],
      ])
      expect(train[0].lr).to.equal(2e-5)
      const exported = path.join(outputDir, 'deberta_v3_base_gdes')
      expect(JSON.parse(r.stdout).outputs.discriminator).to.equal(exported)
      const names = [...tensorsOf(path.join(exported, 'model.safetensors')).keys()]
      expect(names).to.include('deberta.embeddings.word_embeddings.weight')
      expect(names.some((n) => n.endsWith('_weight'))).to.equal(false)
      // started from the hub weights: 3 AdamW steps at lr 2e-5 move each weight by at most ~6e-5
      const start = tensorsOf(path.join(tmp, 'model', 'model.safetensors'))
      const after = tensorsOf(path.join(exported, 'model.safetensors'))
      const gen = tensorsOf(path.join(exported, 'generator', 'model.safetensors'))
      for (const [name, got] of [['deberta.encoder.layer.1.output.dense.weight', after], ['deberta.encoder.layer.0.attention.self.query_proj.weight', gen]] as const) {
        const a = got.get(name)!.data
        const b = start.get(name)!.data
        let d = 0
        for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
        expect(d, name).to.be.below(1e-4)
      }
      expect(fs.existsSync(path.join(exported, 'tokenizer.json'))).to.equal(true)
      expect(fs.existsSync(path.join(exported, 'generator', 'tokenizer.json'))).to.equal(true)
    })

    it('the quick start `rtd run imdb-gdes.yaml ~schedule.epochs schedule.max_steps=2` trains on the native backend', async function () {
      const loaded = loadNativeKernels()
      if (!loaded.ok || !hasNativeBackendKernels(loaded.kernels)) this.skip() // no compiler or OpenBLAS here
      const outputDir = path.join(tmp, 'quick-start')
      const r = await runCli({args: ['run', pipelineFile('imdb-gdes'), '~schedule.epochs', 'schedule.max_steps=2', 'schedule.log_every=1', 'runtime.backend=native', 'evaluation.max_batches=1', `output.dir=${outputDir}`], env})
      expect(r.code, r.stderr + r.stdout).to.equal(0)
      const runDir = runDirOf(outputDir, 'imdb-gdes')
      expect(fs.readFileSync(path.join(runDir, 'run.log'), 'utf8')).to.match(/backend native/)
      const train = readMetrics(runDir).filter((m) => m.type === 'train')
      expect(train.map((m) => m.step)).to.deep.equal([1, 2])
      for (const m of train) expect(Number.isFinite(m.loss), `loss ${m.loss}`).to.equal(true)
      expect(fs.existsSync(path.join(outputDir, 'deberta_v3_base_gdes', 'model.safetensors'))).to.equal(true)
    })
  })
})
