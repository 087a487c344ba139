/**
 * The worked external architecture plugin of docs/plugins.md (examples/architecture-plugin/, its
 * own package.json, plain JavaScript) used from a pipeline's `plugins:` list, end to end: a tiny
 * GDES training through rtd's gdes objective, the Hugging Face export with the plugin's names,
 * and `rtd export` rebuilding the pair from the run's record (plugins.json) through the registry.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {expect} from 'chai'

import {runCli} from '../helpers/run-cli.js'
import {expectExportAgain, expectMergedTables, expectTrainLosses, repoRoot, tensorsOf, tinyCliRun} from './tiny-fixture.js'

const STEPS = 4

describe('e2e: the external architecture plugin example', function () {
  this.timeout(300_000)
  const pipeline = path.join(repoRoot, 'examples', 'architecture-plugin', 'tiny-bert.yaml')
  const run = tinyCliRun({
    pipeline,
    runName: 'tiny-bert',
    exportName: 'tiny_bert_gdes',
    maxSteps: STEPS,
    model: ['model.config.hidden_size=16', 'model.config.num_attention_heads=2', 'model.config.intermediate_size=32', 'model.config.max_position_embeddings=32'],
  })

  it('validates with the plugin\'s schema, trains and evaluates through rtd\'s gdes objective', async () => {
    expect(run.cli.code, run.cli.stderr).to.equal(0)
    const out = JSON.parse(run.cli.stdout) as {metrics: Record<string, number>}
    expect(out.metrics.disc_auc).to.be.a('number')
    expectTrainLosses(run.runDir, STEPS)
    // the plugin's own check runs in rtd validate, located in the file
    const bad = await runCli({args: ['validate', pipeline, 'model.config.num_attention_heads=3']})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/model\.config\.num_attention_heads: 3 heads do not divide hidden_size 128/)
  })

  it('exports with the plugin\'s Hugging Face names, shared tables merged (E_G + delta)', () => {
    const {runDir, exportDir} = run
    const g = JSON.parse(fs.readFileSync(path.join(exportDir, 'generator', 'config.json'), 'utf8'))
    expect(g).to.include({model_type: 'bert', num_hidden_layers: 1})
    expect(g.architectures).to.deep.equal(['BertForMaskedLM'])
    const d = tensorsOf(path.join(exportDir, 'model.safetensors'))
    expect([...d.keys()]).to.include.members(['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.1.output.LayerNorm.weight', 'discriminator_predictions.dense_prediction.weight'])
    expect([...d.keys()].filter((k) => k.endsWith('._weight'))).to.deep.equal([])
    expect([...tensorsOf(path.join(exportDir, 'generator', 'model.safetensors')).keys()]).to.include('cls.predictions.bias')
    expectMergedTables({runDir, exportDir, step: STEPS, prefix: 'bert.embeddings', tables: ['word_embeddings', 'position_embeddings', 'token_type_embeddings'], stride: 5})
  })

  it('rtd export rebuilds the pair from the run\'s record and writes the same weights', async () => {
    expect(JSON.parse(fs.readFileSync(path.join(run.runDir, 'plugins.json'), 'utf8')).modules).to.deep.equal([path.join(repoRoot, 'examples', 'architecture-plugin', 'index.mjs')])
    await expectExportAgain({runDir: run.runDir, exportDir: run.exportDir, into: path.join(run.tmp, 'again')})
  })
})
