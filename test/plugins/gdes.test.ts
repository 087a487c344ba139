/**
 * The gdes model plugin, run in-process on a reduced tiny pipeline: export names and the
 * E_D = E_G + E_Δ merge (GDES), E_D = E_G (ES), separate tables (NES), save_name, and loss
 * weight schedules reaching the trainer (metrics lines show the scheduled lambda).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import type {HostTensor} from '../../src/checkpoint/index.js'
import {exportRun} from '../../src/export/export-run.js'
import {pipelineFile, readMetrics, runDirOf, runInProcess, tensorsOf, tinyOverrides, writeCorpus} from '../e2e/tiny-fixture.js'

const WORD = 'deberta.embeddings.word_embeddings'

function sameData(a: HostTensor, b: HostTensor): boolean {
  return a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i])
}

describe('gdes plugin', function () {
  this.timeout(60_000)
  let tmp: string
  let corpus: string
  let cacheDir: string

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-gdes-'))
    corpus = writeCorpus(tmp)
    cacheDir = path.join(tmp, 'cache')
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  /** A reduced run of `name` (tiny-gdes, tiny-es...); returns the run dir, the export dir and the last checkpoint's tensors. */
  async function run(name: string, extra: string[] = [], steps = 6) {
    const outputDir = path.join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`)
    const r = await runInProcess({file: pipelineFile(name), overrides: tinyOverrides({corpus, outputDir, maxSteps: steps, extra}), cacheDir})
    const runDir = runDirOf(outputDir, name)
    return {r, runDir, ckpt: tensorsOf(path.join(runDir, 'checkpoints', `step-${steps}`, 'model.safetensors'))}
  }

  /** `rtd export` of the run writes the same weights as the end of training. */
  async function expectExportRunReproduces(runDir: string, exported: string): Promise<void> {
    const out = path.join(tmp, `again-${path.basename(runDir)}`)
    const again = await exportRun({runDir, output: out})
    expect(again.outputs.discriminator).to.equal(path.join(out, path.basename(exported)))
    for (const f of ['model.safetensors', 'config.json', path.join('generator', 'model.safetensors')]) {
      expect(fs.readFileSync(path.join(again.outputs.discriminator, f)).equals(fs.readFileSync(path.join(exported, f))), f).to.equal(true)
    }
  }

  it('gdes: a scheduled lambda reaches every step; the export merges E_D = E_G + E_delta and drops _weight', async () => {
    const {r, runDir, ckpt} = await run('tiny-gdes', ['loss.lambda={schedule: linear, start: 0, end: 10, steps: 4}'])
    const train = readMetrics(runDir).filter((m) => m.type === 'train')
    expect(train.map((m) => m.lambda)).to.deep.equal([0, 2.5, 5, 7.5, 10, 10])
    for (const m of train) expect(m.loss as number).to.be.closeTo((m.loss_mlm as number) + (m.lambda as number) * (m.loss_rtd as number), 1e-4 * (m.loss as number))
    expect(r.outputs.discriminator).to.equal(path.join(path.dirname(runDir), 'tiny_gdes'))
    const disc = tensorsOf(path.join(r.outputs.discriminator, 'model.safetensors'))
    const eG = ckpt.get(`generator/${WORD}.weight`)!
    const eDelta = ckpt.get(`discriminator/${WORD}._weight`)!
    const eD = disc.get(`${WORD}.weight`)!
    expect(eD.data.every((x, i) => x === Math.fround(eG.data[i] + eDelta.data[i]))).to.equal(true)
    expect([...disc.keys()].filter((k) => k.includes('_weight'))).to.deep.equal([])
    // every other discriminator tensor is the checkpoint's, under its HF name
    for (const [k, v] of disc) if (k !== `${WORD}.weight`) expect(sameData(v, ckpt.get(`discriminator/${k}`)!), k).to.equal(true)
    const gen = tensorsOf(path.join(r.outputs.generator, 'model.safetensors'))
    for (const [k, v] of gen) expect(sameData(v, ckpt.get(`generator/${k}`)!), k).to.equal(true)
    expect([...gen.keys()].filter((k) => k.startsWith('lm_predictions.lm_head.')).sort()).to.deep.equal(['lm_predictions.lm_head.LayerNorm.bias', 'lm_predictions.lm_head.LayerNorm.weight', 'lm_predictions.lm_head.bias', 'lm_predictions.lm_head.dense.bias', 'lm_predictions.lm_head.dense.weight'])
  })

  it('es (tiny-es.yaml): one table; the discriminator exports E_G as its word embeddings', async () => {
    const {r, runDir, ckpt} = await run('tiny-es')
    expect(path.basename(r.outputs.discriminator)).to.equal('tiny_es')
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'model.json'), 'utf8')).embedding_sharing).to.equal('es')
    expect([...ckpt.keys()].filter((k) => k.startsWith(`discriminator/${WORD}`)), 'ES: the discriminator owns no word table').to.deep.equal([])
    const eG = ckpt.get(`generator/${WORD}.weight`)!
    expect(sameData(tensorsOf(path.join(r.outputs.discriminator, 'model.safetensors')).get(`${WORD}.weight`)!, eG)).to.equal(true)
    expect(sameData(tensorsOf(path.join(r.outputs.generator, 'model.safetensors')).get(`${WORD}.weight`)!, eG)).to.equal(true)
    await expectExportRunReproduces(runDir, r.outputs.discriminator)
  })

  it('nes (tiny-nes.yaml): two tables, each exported as trained', async () => {
    const {r, runDir, ckpt} = await run('tiny-nes', ['output.save_name=ablation-nes'])
    expect(r.outputs.discriminator.endsWith(`${path.sep}ablation-nes`)).to.equal(true)
    const dTable = ckpt.get(`discriminator/${WORD}.weight`)!
    const gTable = ckpt.get(`generator/${WORD}.weight`)!
    expect(sameData(dTable, gTable)).to.equal(false)
    expect(sameData(tensorsOf(path.join(r.outputs.discriminator, 'model.safetensors')).get(`${WORD}.weight`)!, dTable)).to.equal(true)
    expect(sameData(tensorsOf(path.join(r.outputs.generator, 'model.safetensors')).get(`${WORD}.weight`)!, gTable)).to.equal(true)
    await expectExportRunReproduces(runDir, r.outputs.discriminator)
  })
})
