/**
 * End to end through the CLI: a reduced pipelines/tiny-gdes.yaml trains, evaluates and exports;
 * the export has the Hugging Face layout of SPEC A.9, merges E_D = E_G + E_Δ exactly, and loads
 * back into src/model with the trained networks' outputs; `rtd export` of the run directory
 * writes the same files byte for byte.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import * as tf from '#tfjs'
import {expect} from 'chai'

import {loadModelFolder} from '../../src/checkpoint/index.js'
import {loadRunModel, type LoadedRunModel} from '../../src/export/export-run.js'
import {EVAL, MlmModel, parseHfConfig, RtdPair} from '../../src/model/index.js'
import {runCli} from '../helpers/run-cli.js'
import {expectExportAgain, expectMergedTables, expectTrainLosses, pipelineFile, readMetrics, tensorsOf, tinyCliRun} from './tiny-fixture.js'
import {architecture as debertaV3} from '../../plugins/deberta-v3/deberta-v3-networks.js'

const STEPS = 24

/** Max |a-b| / max(1, |b|) over two float arrays of equal length. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).to.equal(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])))
  return m
}

describe('e2e: reduced tiny-gdes pipeline', function () {
  this.timeout(120_000)
  const run = tinyCliRun({pipeline: pipelineFile('tiny-gdes'), runName: 'tiny-gdes', exportName: 'tiny_gdes', maxSteps: STEPS, extra: ['schedule.eval_every=12', 'schedule.checkpoint_every=8']})

  it('exits 0 and reports the metrics and the export folders as JSON', () => {
    expect(run.cli.code, run.cli.stderr).to.equal(0)
    const out = JSON.parse(run.cli.stdout) as {runDir: string; state: string; metrics: Record<string, number>; outputs: Record<string, string>}
    expect(out.state).to.equal('completed')
    expect(out.runDir).to.equal(run.runDir)
    expect(out.outputs.discriminator).to.equal(run.exportDir)
    expect(out.outputs.generator).to.equal(path.join(run.exportDir, 'generator'))
    expect(out.metrics.disc_f1).to.be.a('number')
  })

  it('writes the run directory: records, status completed, train and eval metrics lines, checkpoints', () => {
    for (const f of ['pipeline.yaml', 'resolved.yaml', 'overrides.json', 'environment.json', 'run.log', 'metrics.jsonl', 'status.json', 'model/model.json', 'model/tokenizer/tokenizer.json']) {
      expect(fs.existsSync(path.join(run.runDir, f)), f).to.equal(true)
    }
    const status = JSON.parse(fs.readFileSync(path.join(run.runDir, 'status.json'), 'utf8'))
    expect(status.state).to.equal('completed')
    for (const m of expectTrainLosses(run.runDir, STEPS)) {
      for (const k of ['loss', 'loss_mlm', 'loss_rtd', 'lambda', 'lr', 'grad_norm']) expect(m[k], `${k} at step ${m.step}`).to.be.a('number')
    }
    const evals = readMetrics(run.runDir).filter((m) => m.type === 'eval')
    expect(evals.map((m) => [m.step, m.final ?? false])).to.deep.equal([
      [12, false],
      [STEPS, true],
    ])
    for (const e of evals) for (const k of ['disc_loss', 'disc_f1', 'disc_auc', 'mlm_loss', 'mlm_accuracy']) expect(e[k], k).to.be.a('number')
    expect(fs.readdirSync(path.join(run.runDir, 'checkpoints')).filter((d) => d.startsWith('step-')).sort()).to.deep.equal(['step-16', `step-${STEPS}`])
  })

  it('logs GDES diagnostics at each evaluation, records the discriminator samples and keeps report.html current', () => {
    const evals = readMetrics(run.runDir).filter((m) => m.type === 'eval')
    for (const e of evals) {
      expect(e.emb_grad_rtd_g, `step ${e.step}`).to.equal(0) // GDES: the RTD loss never reaches E_G
      expect(e.emb_grad_mlm_delta, `step ${e.step}`).to.equal(0)
      for (const k of ['emb_grad_mlm_g', 'emb_grad_rtd_delta', 'emb_norm_delta']) expect(e[k] as number, `${k} at ${e.step}`).to.be.greaterThan(0)
      expect(e.emb_cos_mean as number).to.be.within(-1, 1)
      expect(e.disc_accuracy_no_special as number).to.be.within(0, 1)
    }
    const samples = JSON.parse(fs.readFileSync(path.join(run.runDir, 'samples.json'), 'utf8')) as {step: number; sequences: {o: string; s?: string; p: number; m?: 1}[][]}
    expect(samples.step).to.equal(STEPS)
    expect(samples.sequences).to.have.length(8)
    const tokens = samples.sequences.flat()
    expect(tokens.some((t) => t.s !== undefined)).to.equal(true)
    for (const t of tokens) {
      expect(t.p).to.be.within(0, 1)
      if (t.s !== undefined) expect(t.m).to.equal(1) // only masked positions are replaced
    }
    const html = fs.readFileSync(path.join(run.runDir, 'report.html'), 'utf8')
    for (const id of ['loss', 'loss_rtd', 'disc_auc', 'emb_cos_mean', 'emb_grad_rtd_delta']) expect(html, id).to.include(`data-plot="${id}"`)
    expect(html).to.include('id="samples"')
  })

  it('exports HF folders: deberta.* names, merged word table, mask_predictions / lm_predictions heads, tokenizer beside both', () => {
    const disc = tensorsOf(path.join(run.exportDir, 'model.safetensors'))
    const gen = tensorsOf(path.join(run.exportDir, 'generator', 'model.safetensors'))
    const names = [...disc.keys()]
    expect(names).to.include('deberta.embeddings.word_embeddings.weight')
    expect(names.filter((n) => n.endsWith('_weight')), 'no E_delta in the export').to.deep.equal([])
    expect(names.filter((n) => n.startsWith('mask_predictions.')).sort()).to.deep.equal(['mask_predictions.LayerNorm.bias', 'mask_predictions.LayerNorm.weight', 'mask_predictions.classifier.bias', 'mask_predictions.classifier.weight', 'mask_predictions.dense.bias', 'mask_predictions.dense.weight'])
    expect(names.every((n) => n.startsWith('deberta.') || n.startsWith('mask_predictions.')), names.join(',')).to.equal(true)
    expect([...gen.keys()].filter((n) => n.startsWith('lm_predictions.lm_head.')).length).to.be.greaterThan(0)
    expect([...gen.keys()].some((n) => n.startsWith('mask_predictions.'))).to.equal(false)
    const discCfg = JSON.parse(fs.readFileSync(path.join(run.exportDir, 'config.json'), 'utf8'))
    const genCfg = JSON.parse(fs.readFileSync(path.join(run.exportDir, 'generator', 'config.json'), 'utf8'))
    expect(discCfg.model_type).to.equal('deberta-v2')
    expect([discCfg.hidden_size, discCfg.num_hidden_layers, genCfg.num_hidden_layers]).to.deep.equal([32, 2, 1])
    expect(genCfg.architectures).to.deep.equal(['DebertaV2ForMaskedLM'])
    for (const dir of [run.exportDir, path.join(run.exportDir, 'generator')]) {
      for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) expect(fs.existsSync(path.join(dir, f)), `${dir}/${f}`).to.equal(true)
    }
    expect(fs.readFileSync(path.join(run.exportDir, 'tokenizer.json'))).to.deep.equal(fs.readFileSync(path.join(run.runDir, 'model', 'tokenizer', 'tokenizer.json')))
  })

  it('writes E_D = E_G + E_delta of the last checkpoint (fp32 add, exactly)', () => {
    const largest = expectMergedTables({runDir: run.runDir, exportDir: run.exportDir, step: STEPS, prefix: 'deberta.embeddings', tables: ['word_embeddings']})
    expect(largest['word_embeddings'], 'E_delta trained away from zero').to.be.greaterThan(0)
    // the generator's export is E_G itself
    const eG = tensorsOf(path.join(run.runDir, 'checkpoints', `step-${STEPS}`, 'model.safetensors')).get('generator/deberta.embeddings.word_embeddings.weight')!
    expect(tensorsOf(path.join(run.exportDir, 'generator', 'model.safetensors')).get('deberta.embeddings.word_embeddings.weight')!.data).to.deep.equal(eG.data)
  })

  describe('the export loads back', () => {
    let trained: LoadedRunModel
    let exported: RtdPair
    const B = 2
    const N = 12
    let ids: Int32Array

    before(async () => {
      trained = await loadRunModel({runDir: run.runDir}) // the last checkpoint in a GDES pair (E_G and E_delta apart)
      const d = loadModelFolder({dir: run.exportDir})
      const g = loadModelFolder({dir: path.join(run.exportDir, 'generator')})
      // no sharing: the export's discriminator word table is used as it is
      exported = new RtdPair({architecture: debertaV3, discriminator: parseHfConfig({json: d.config}), generator: parseHfConfig({json: g.config}), sharing: 'nes', seed: 7, maskTokenId: 4})
      const notes = exported.loadTensors({generator: g.tensors, discriminator: d.tensors})
      expect(notes.join('\n')).to.not.match(/missing|unexpected|random/i)
      const vocab = (d.config as {vocab_size: number}).vocab_size
      ids = Int32Array.from({length: B * N}, (_, k) => (k % N === 0 ? 1 : k % N === N - 1 ? 2 : 5 + ((k * 37) % (vocab - 5))))
    })

    const trainedPair = () => (trained.restored as unknown as {pair: RtdPair}).pair

    after(() => {
      trained?.dispose()
      exported?.dispose()
    })

    it('the discriminator gives the trained pair\'s RTD logits', () => {
      if (trained.plugin !== 'gdes') expect.fail('expected a gdes run')
      const run = (disc: RtdPair['discriminator']): Float32Array =>
        tf.tidy(() => disc.forward({inputIds: tf.tensor2d(ids, [B, N], 'int32'), mask: tf.ones([B, N]) as tf.Tensor2D, ctx: EVAL}).logits.dataSync() as Float32Array)
      const want = run(trainedPair().discriminator)
      const got = run(exported.discriminator)
      expect(want.length).to.equal(B * N)
      expect(maxRelDiff(got, want)).to.be.at.most(1e-6)
      expect(new Set(want).size, 'logits are not all equal').to.be.greaterThan(1)
    })

    it('the generator gives the trained pair\'s MLM logits', () => {
      if (trained.plugin !== 'gdes') expect.fail('expected a gdes run')
      const run = (gen: MlmModel): Float32Array =>
        tf.tidy(() => gen.forward({inputIds: tf.tensor2d(ids, [B, N], 'int32'), mask: tf.ones([B, N]) as tf.Tensor2D, positions: tf.range(0, B * N, 1, 'int32') as tf.Tensor1D, ctx: EVAL}).logits.dataSync() as Float32Array)
      expect(maxRelDiff(run(exported.generator as MlmModel), run(trainedPair().generator as MlmModel))).to.be.at.most(1e-6)
    })
  })

  it('rtd export <run-dir> writes the end-of-training export again, byte for byte', async () => {
    const again = path.join(run.tmp, 'again')
    const out = await expectExportAgain({runDir: run.runDir, exportDir: run.exportDir, into: again})
    expect(out.step).to.equal(STEPS)
    expect(out.outputs).to.deep.equal({discriminator: path.join(again, 'tiny_gdes'), generator: path.join(again, 'tiny_gdes', 'generator')})
  })

  it('rtd export --step exports an older checkpoint; a missing step is a usage error', async () => {
    const older = path.join(run.tmp, 'older')
    const r = await runCli({args: ['export', run.runDir, '--step', '16', '--output', older, '--json']})
    expect(r.code, r.stderr).to.equal(0)
    const ckpt = tensorsOf(path.join(run.runDir, 'checkpoints', 'step-16', 'model.safetensors'))
    const head = tensorsOf(path.join(older, 'tiny_gdes', 'model.safetensors')).get('mask_predictions.classifier.weight')!
    expect(head.data).to.deep.equal(ckpt.get('discriminator/mask_predictions.classifier.weight')!.data)
    const bad = await runCli({args: ['export', run.runDir, '--step', '3', '--output', older]})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/no checkpoint for step 3/)
  })
})
