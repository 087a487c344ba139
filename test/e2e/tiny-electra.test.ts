/**
 * pipelines/tiny-electra.yaml reduced to seconds: an ELECTRA pair (the `electra` architecture
 * plugin; a narrower generator) trained with GDES through the same gdes objective as DeBERTa,
 * exported as Hugging Face ElectraForPreTraining / ElectraForMaskedLM folders, and `rtd export`
 * writing the same weights again from the checkpoint.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {expect} from 'chai'

import {readElectraFolder} from '../../src/model/electra/hf-folder.js'
import {expectExportAgain, expectMergedTables, expectTrainLosses, pipelineFile, readMetrics, tinyCliRun} from './tiny-fixture.js'

const STEPS = 6

describe('e2e: reduced tiny-electra pipeline', function () {
  this.timeout(300_000)
  const run = tinyCliRun({
    pipeline: pipelineFile('tiny-electra'),
    runName: 'tiny-electra',
    exportName: 'tiny_electra_gdes',
    maxSteps: STEPS,
    model: ['model.config.embedding_size=16', 'model.config.hidden_size=32', 'model.config.num_attention_heads=4', 'model.config.intermediate_size=64', 'model.config.max_position_embeddings=64'],
    extra: ['schedule.eval_every=3'],
  })

  it('trains, evaluates at the cadence and at the end, and reports the export folders', () => {
    expect(run.cli.code, run.cli.stderr).to.equal(0)
    const out = JSON.parse(run.cli.stdout) as {metrics: Record<string, number>; outputs: Record<string, string>}
    expect(out.outputs.discriminator).to.equal(run.exportDir)
    expect(out.outputs.generator).to.equal(path.join(run.exportDir, 'generator'))
    const evals = readMetrics(run.runDir).filter((m) => m.type === 'eval')
    expect(evals.map((e) => [e.step, e.final ?? false])).to.deep.equal([[3, false], [6, true]])
    for (const k of ['disc_loss', 'disc_auc', 'mlm_loss']) expect(out.metrics[k], k).to.be.a('number').and.satisfy(Number.isFinite)
    expectTrainLosses(run.runDir, STEPS)
  })

  it('exports ElectraForPreTraining / ElectraForMaskedLM folders with a quarter-width generator', () => {
    const {exportDir} = run
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
    const tables = ['word_embeddings', 'position_embeddings', 'token_type_embeddings']
    const largest = expectMergedTables({runDir: run.runDir, exportDir: run.exportDir, step: STEPS, prefix: 'electra.embeddings', tables, stride: 7})
    for (const table of tables) expect(largest[table], `${table} delta moved`).to.be.greaterThan(0)
  })

  it('rtd export <run-dir> rebuilds the pair through the registry and writes the same weights', async () => {
    await expectExportAgain({runDir: run.runDir, exportDir: run.exportDir, into: path.join(run.tmp, 'again')})
  })
})
