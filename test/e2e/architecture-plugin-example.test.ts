/**
 * The worked external architecture plugin of docs/plugins.md (examples/architecture-plugin/, its
 * own package.json, plain JavaScript) used from a pipeline's `plugins:` list, end to end: a tiny
 * GDES training through rtd's gdes objective, the Hugging Face export with the plugin's names,
 * and `rtd export` rebuilding the pair from the run's record (plugins.json) through the registry.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {runCli} from '../helpers/run-cli.js'
import {readMetrics, repoRoot, runDirOf, tensorsOf, writeCorpus} from './tiny-fixture.js'

const STEPS = 4

describe('e2e: the external architecture plugin example', function () {
  this.timeout(300_000)
  let tmp: string
  let outputDir: string
  let runDir: string
  let exportDir: string
  let cli: {code: number | null; stdout: string; stderr: string}
  const pipeline = path.join(repoRoot, 'examples', 'architecture-plugin', 'tiny-bert.yaml')

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-archplugin-'))
    outputDir = path.join(tmp, 'runs')
    const corpus = writeCorpus(tmp)
    const overrides = [
      '~data.source.package',
      `data.source.files=${corpus}`,
      'data.tokenizer.train.vocab_size=120',
      'data.max_length=32',
      'model.config.hidden_size=16',
      'model.config.num_attention_heads=2',
      'model.config.intermediate_size=32',
      'model.config.max_position_embeddings=32',
      `schedule.max_steps=${STEPS}`,
      'schedule.batch_size=8',
      'evaluation.max_batches=2',
      `output.dir=${outputDir}`,
    ]
    cli = await runCli({args: ['run', pipeline, ...overrides, '--json'], env: {RTD_CACHE: path.join(tmp, 'cache')}})
    runDir = runDirOf(outputDir, 'tiny-bert')
    exportDir = path.join(outputDir, 'tiny_bert_gdes')
  })

  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('validates with the plugin\'s schema, trains and evaluates through rtd\'s gdes objective', async () => {
    expect(cli.code, cli.stderr).to.equal(0)
    const out = JSON.parse(cli.stdout) as {metrics: Record<string, number>}
    expect(out.metrics.disc_auc).to.be.a('number')
    const train = readMetrics(runDir).filter((m) => m.type === 'train')
    expect(train).to.have.length(STEPS)
    for (const m of train) expect(m.loss as number).to.be.closeTo((m.loss_mlm as number) + 50 * (m.loss_rtd as number), 1e-3 * (m.loss as number))
    // the plugin's own check runs in rtd validate, located in the file
    const bad = await runCli({args: ['validate', pipeline, 'model.config.num_attention_heads=3']})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/model\.config\.num_attention_heads: 3 heads do not divide hidden_size 128/)
  })

  it('exports with the plugin\'s Hugging Face names, shared tables merged (E_G + delta)', () => {
    const g = JSON.parse(fs.readFileSync(path.join(exportDir, 'generator', 'config.json'), 'utf8'))
    expect(g).to.include({model_type: 'bert', num_hidden_layers: 1})
    expect(g.architectures).to.deep.equal(['BertForMaskedLM'])
    const d = tensorsOf(path.join(exportDir, 'model.safetensors'))
    expect([...d.keys()]).to.include.members(['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.1.output.LayerNorm.weight', 'discriminator_predictions.dense_prediction.weight'])
    expect([...d.keys()].filter((k) => k.endsWith('._weight'))).to.deep.equal([])
    expect([...tensorsOf(path.join(exportDir, 'generator', 'model.safetensors')).keys()]).to.include('cls.predictions.bias')
    const ckpt = tensorsOf(path.join(runDir, 'checkpoints', `step-${STEPS}`, 'model.safetensors'))
    for (const table of ['word_embeddings', 'position_embeddings', 'token_type_embeddings']) {
      const eg = ckpt.get(`generator/bert.embeddings.${table}.weight`)!.data
      const delta = ckpt.get(`discriminator/bert.embeddings.${table}._weight`)!.data
      const merged = d.get(`bert.embeddings.${table}.weight`)!.data
      for (let i = 0; i < merged.length; i += 5) expect(merged[i], `${table}[${i}]`).to.equal(Math.fround(eg[i] + delta[i]))
    }
  })

  it('rtd export rebuilds the pair from the run\'s record and writes the same weights', async () => {
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'plugins.json'), 'utf8')).modules).to.deep.equal([path.join(repoRoot, 'examples', 'architecture-plugin', 'index.mjs')])
    const again = path.join(tmp, 'again')
    const r = await runCli({args: ['export', runDir, '--output', again, '--json']})
    expect(r.code, r.stderr).to.equal(0)
    for (const f of ['model.safetensors', 'generator/model.safetensors']) {
      expect(fs.readFileSync(path.join(again, 'tiny_bert_gdes', f)).equals(fs.readFileSync(path.join(exportDir, f))), f).to.equal(true)
    }
  })
})
