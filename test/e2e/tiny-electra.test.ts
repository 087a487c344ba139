/**
 * pipelines/tiny-electra.yaml reduced to seconds: an ELECTRA pair (the `electra` architecture
 * plugin; a narrower generator) trained with GDES through the same gdes objective as DeBERTa,
 * exported as Hugging Face ElectraForPreTraining / ElectraForMaskedLM folders, and `rtd export`
 * writing the same weights again from the checkpoint.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {readElectraFolder} from '../../src/model/electra/hf-folder.js'
import {runCli} from '../helpers/run-cli.js'
import {pipelineFile, readMetrics, runDirOf, tensorsOf, writeCorpus} from './tiny-fixture.js'

const STEPS = 6

describe('e2e: reduced tiny-electra pipeline', function () {
  this.timeout(300_000)
  let tmp: string
  let outputDir: string
  let runDir: string
  let exportDir: string
  let cli: {code: number | null; stdout: string; stderr: string}

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-electra-'))
    outputDir = path.join(tmp, 'runs')
    const corpus = writeCorpus(tmp)
    const overrides = [
      '~data.source.package',
      `data.source.files=${corpus}`,
      'data.tokenizer.train.vocab_size=120',
      'data.max_length=32',
      'model.config.embedding_size=16',
      'model.config.hidden_size=32',
      'model.config.num_attention_heads=4',
      'model.config.intermediate_size=64',
      'model.config.max_position_embeddings=64',
      `schedule.max_steps=${STEPS}`,
      'schedule.batch_size=8',
      'schedule.eval_every=3',
      'evaluation.max_batches=2',
      `output.dir=${outputDir}`,
    ]
    cli = await runCli({args: ['run', pipelineFile('tiny-electra'), ...overrides, '--json'], env: {RTD_CACHE: path.join(tmp, 'cache')}})
    runDir = runDirOf(outputDir, 'tiny-electra')
    exportDir = path.join(outputDir, 'tiny_electra_gdes')
  })

  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('trains, evaluates at the cadence and at the end, and reports the export folders', () => {
    expect(cli.code, cli.stderr).to.equal(0)
    const out = JSON.parse(cli.stdout) as {metrics: Record<string, number>; outputs: Record<string, string>}
    expect(out.outputs.discriminator).to.equal(exportDir)
    expect(out.outputs.generator).to.equal(path.join(exportDir, 'generator'))
    const evals = readMetrics(runDir).filter((m) => m.type === 'eval')
    expect(evals.map((e) => [e.step, e.final ?? false])).to.deep.equal([[3, false], [6, true]])
    for (const k of ['disc_loss', 'disc_auc', 'mlm_loss']) expect(out.metrics[k], k).to.be.a('number').and.satisfy(Number.isFinite)
    const train = readMetrics(runDir).filter((m) => m.type === 'train')
    expect(train).to.have.length(STEPS)
    for (const m of train) expect(m.loss as number).to.be.closeTo((m.loss_mlm as number) + 50 * (m.loss_rtd as number), 1e-3 * (m.loss as number))
  })

  it('exports ElectraForPreTraining / ElectraForMaskedLM folders with a quarter-width generator', () => {
    const d = readElectraFolder({dir: exportDir})
    const g = readElectraFolder({dir: path.join(exportDir, 'generator')})
    expect(d.role).to.equal('discriminator')
    expect(g.role).to.equal('generator')
    expect(JSON.parse(fs.readFileSync(path.join(exportDir, 'config.json'), 'utf8'))).to.include({model_type: 'electra', hidden_size: 32, embedding_size: 16})
    expect(g.config.hiddenSize).to.equal(8)
    expect(g.config.embeddingSize).to.equal(16)
    const dn = [...d.tensors.keys()]
    expect(dn).to.include.members(['discriminator_predictions.dense.weight', 'discriminator_predictions.dense_prediction.weight', 'electra.embeddings.word_embeddings.weight', 'electra.embeddings.position_embeddings.weight', 'electra.embeddings.token_type_embeddings.weight', 'electra.embeddings_project.weight'])
    expect(dn.filter((k) => k.endsWith('._weight'))).to.deep.equal([])
    const gn = [...g.tensors.keys()]
    expect(gn.some((k) => k.startsWith('generator_predictions.'))).to.equal(true)
    expect(gn).to.include('generator_lm_head.bias')
    expect(fs.existsSync(path.join(exportDir, 'tokenizer.json'))).to.equal(true)
  })

  it('merges each shared table as generator table + its own GDES delta', () => {
    const ckpt = tensorsOf(path.join(runDir, 'checkpoints', `step-${STEPS}`, 'model.safetensors'))
    const d = tensorsOf(path.join(exportDir, 'model.safetensors'))
    for (const table of ['word_embeddings', 'position_embeddings', 'token_type_embeddings']) {
      const eg = ckpt.get(`generator/electra.embeddings.${table}.weight`)!.data
      const delta = ckpt.get(`discriminator/electra.embeddings.${table}._weight`)!.data
      const merged = d.get(`electra.embeddings.${table}.weight`)!.data
      expect(merged.length, table).to.equal(eg.length)
      expect(delta.some((x) => x !== 0), `${table} delta moved`).to.equal(true)
      for (let i = 0; i < merged.length; i += 7) expect(merged[i], `${table}[${i}]`).to.equal(Math.fround(eg[i] + delta[i]))
    }
  })

  it('rtd export <run-dir> rebuilds the pair through the registry and writes the same weights', async () => {
    const again = path.join(tmp, 'again')
    const r = await runCli({args: ['export', runDir, '--output', again, '--json']})
    expect(r.code, r.stderr).to.equal(0)
    for (const f of ['model.safetensors', 'config.json', 'generator/model.safetensors', 'generator/config.json']) {
      expect(fs.readFileSync(path.join(again, 'tiny_electra_gdes', f)).equals(fs.readFileSync(path.join(exportDir, f))), f).to.equal(true)
    }
  })
})
