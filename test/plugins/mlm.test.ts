/**
 * The mlm model plugin (the DeBERTaV3 paper's MLM baseline), run in-process on a reduced
 * tiny-mlm.yaml: one model, MLM-only metrics, one HF folder with the lm_predictions head, and
 * `rtd export` (exportRun) reproducing it byte for byte.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {exportRun} from '../../src/export/export-run.js'
import {pipelineFile, readMetrics, runDirOf, runInProcess, tensorsOf, tinyOverrides, writeCorpus} from '../e2e/tiny-fixture.js'

describe('mlm plugin', function () {
  this.timeout(60_000)
  let tmp: string

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-mlm-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('trains one MLM, evaluates MLM metrics only and exports one HF folder that rtd export reproduces', async () => {
    const corpus = writeCorpus(tmp)
    const outputDir = path.join(tmp, 'runs')
    const r = await runInProcess({file: pipelineFile('tiny-mlm'), overrides: tinyOverrides({corpus, outputDir, maxSteps: 6}), cacheDir: path.join(tmp, 'cache')})
    const runDir = runDirOf(outputDir, 'tiny-mlm')
    const exported = path.join(outputDir, 'tiny_mlm')
    expect(r.outputs.model).to.equal(exported)
    expect(r.outputs.discriminator).to.equal(undefined)

    const metrics = readMetrics(runDir)
    const train = metrics.filter((m) => m.type === 'train')
    expect(train).to.have.length(6)
    for (const m of train) {
      expect(m.loss_mlm).to.be.a('number')
      expect(m.loss_rtd).to.equal(undefined)
      expect(m.loss).to.equal(m.loss_mlm) // mlm_weight 1, no RTD term
    }
    const final = metrics.find((m) => m.type === 'eval' && m.final)!
    expect(final.mlm_loss).to.be.a('number')
    expect(Object.keys(final).filter((k) => k.startsWith('disc_'))).to.deep.equal([])

    expect(fs.existsSync(path.join(exported, 'generator'))).to.equal(false)
    const cfg = JSON.parse(fs.readFileSync(path.join(exported, 'config.json'), 'utf8'))
    expect(cfg.architectures).to.deep.equal(['DebertaV2ForMaskedLM'])
    expect([cfg.hidden_size, cfg.num_hidden_layers]).to.deep.equal([32, 2]) // the discriminator's shape, not the generator's
    const tensors = tensorsOf(path.join(exported, 'model.safetensors'))
    const names = [...tensors.keys()]
    expect(names.filter((n) => n.startsWith('lm_predictions.lm_head.')).length).to.equal(5)
    expect(names.every((n) => n.startsWith('deberta.') || n.startsWith('lm_predictions.lm_head.'))).to.equal(true)
    const ckpt = tensorsOf(path.join(runDir, 'checkpoints', 'step-6', 'model.safetensors'))
    expect([...ckpt.keys()].sort()).to.deep.equal(names.map((n) => `model/${n}`).sort())
    for (const [n, t] of tensors) expect(t.data.every((x, i) => x === ckpt.get(`model/${n}`)!.data[i]), n).to.equal(true)
    expect(fs.existsSync(path.join(exported, 'tokenizer.json'))).to.equal(true)

    const again = await exportRun({runDir, output: path.join(tmp, 'again')})
    expect(again).to.include({plugin: 'mlm', step: 6, saveName: 'tiny_mlm'})
    expect(again.outputs).to.deep.equal({model: path.join(tmp, 'again', 'tiny_mlm')})
    for (const f of fs.readdirSync(exported)) expect(fs.readFileSync(path.join(tmp, 'again', 'tiny_mlm', f)).equals(fs.readFileSync(path.join(exported, f))), f).to.equal(true)
  })
})
