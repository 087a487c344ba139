/**
 * Starting from a folder without a prediction head (issue 14): an rtd discriminator export has
 * no MLM head, a generator export no RTD head. The missing head is initialised fresh with a
 * warning naming its tensors, for DeBERTa-v3 and ELECTRA alike, with real export folders of
 * tiny runs.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {pipelineFile, runDirOf, runInProcess, tensorsOf, tinyOverrides, writeCorpus} from '../e2e/tiny-fixture.js'

describe('starting from a folder without an MLM or RTD head', function () {
  this.timeout(300_000) // four tiny runs on a loaded machine
  let tmp: string
  let corpus: string
  let cacheDir: string

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-heads-'))
    corpus = writeCorpus(tmp)
    cacheDir = path.join(tmp, 'cache')
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  /** A 2-step run of `name`; `from` replaces model.config with a starting folder. Returns its outputs and run.log. */
  async function run(name: string, opts: {from?: string; extra?: string[]} = {}) {
    const outputDir = path.join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`)
    let overrides = tinyOverrides({corpus, outputDir, maxSteps: 2, extra: opts.extra})
    // ELECTRA: no relative buckets; a quarter-width generator needs 4 heads to keep one
    if (name === 'tiny-electra') overrides = overrides.filter((o) => !/^model\.config\.(position_buckets|num_attention_heads)=/.test(o)).concat('model.config.embedding_size=16', 'model.config.num_attention_heads=4')
    if (opts.from !== undefined) overrides = [...overrides.filter((o) => !o.startsWith('model.config.')), '~model.config', `model.from=${opts.from}`]
    const r = await runInProcess({file: pipelineFile(name), overrides, cacheDir})
    return {r, log: fs.readFileSync(path.join(runDirOf(outputDir, name), 'run.log'), 'utf8')}
  }

  it('deberta-v3: gdes from a discriminator export initialises the generator\'s MLM head, from a generator export the RTD head; mlm from a discriminator export its MLM head', async () => {
    const first = await run('tiny-gdes')
    const disc = first.r.outputs.discriminator
    const gen = first.r.outputs.generator
    expect([...tensorsOf(path.join(disc, 'model.safetensors')).keys()].filter((k) => k.startsWith('lm_predictions.'))).to.deep.equal([])

    const fromDisc = await run('tiny-gdes', {from: disc})
    expect(fromDisc.log).to.match(/WARN.*generator: model\.from \S+ has no MLM head \(lm_predictions\.lm_head\.dense\.weight, lm_predictions\.lm_head\.dense\.bias, lm_predictions\.lm_head\.LayerNorm\.weight, lm_predictions\.lm_head\.LayerNorm\.bias, lm_predictions\.lm_head\.bias\); initialised fresh/)
    expect(fromDisc.log).not.to.match(/discriminator: .* has no RTD head/)
    // the discriminator started from the export: its RTD head was loaded, not re-initialised
    expect(fs.existsSync(path.join(fromDisc.r.outputs.discriminator, 'model.safetensors'))).to.equal(true)

    const fromGen = await run('tiny-gdes', {from: gen, extra: ['model.generator.depth=1']})
    expect(fromGen.log).to.match(/WARN.*discriminator: model\.from \S+ has no RTD head \(mask_predictions\.LayerNorm\.weight, .*mask_predictions\.classifier\.bias\); initialised fresh/)
    expect(fromGen.log).not.to.contain('has no MLM head')

    const mlm = await run('tiny-mlm', {from: disc})
    expect(mlm.log).to.match(/WARN.*model: model\.from \S+ has no MLM head \(lm_predictions\.lm_head\.dense\.weight, .*\); initialised fresh/)
  })

  it('electra: mlm from an ELECTRA discriminator export initialises generator_predictions.* and generator_lm_head.bias', async () => {
    const first = await run('tiny-electra')
    const mlm = await run('tiny-mlm', {from: first.r.outputs.discriminator, extra: ['model.architecture=electra']})
    expect(mlm.log).to.match(/WARN.*model: model\.from \S+ has no MLM head \(generator_predictions\.dense\.weight, generator_predictions\.dense\.bias, generator_predictions\.LayerNorm\.weight, generator_predictions\.LayerNorm\.bias, generator_lm_head\.bias\); initialised fresh/)
  })
})
