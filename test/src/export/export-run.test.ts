/**
 * src/export exportRun refusals: not a run directory, a run without checkpoints, a checkpoint
 * of another model. (The happy path is in test/e2e/tiny-pipeline.test.ts and test/plugins.)
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {exportRun} from '../../../src/export/export-run.js'
import {RtdError} from '../../../src/errors.js'
import {toHfConfig, v3Config} from '../../../src/model/index.js'
import {saveCheckpoint} from '../../../src/train/index.js'

describe('exportRun', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-export-run-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const failure = async (p: Promise<unknown>): Promise<RtdError> => {
    const e = await p.then(() => undefined, (x: unknown) => x)
    expect(e).to.be.instanceOf(RtdError)
    return e as RtdError
  }

  /** A run dir as the model stage leaves it before the first checkpoint. */
  function fakeRun(): string {
    const runDir = path.join(tmp, 'run')
    fs.mkdirSync(path.join(runDir, 'model', 'tokenizer'), {recursive: true})
    fs.writeFileSync(path.join(runDir, 'model', 'tokenizer', 'tokenizer.json'), '{}')
    const cfg = toHfConfig(v3Config({vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, positionBuckets: 4, maxPositionEmbeddings: 32}))
    const record = {plugin: 'gdes', embedding_sharing: 'gdes', discriminator: cfg, generator: cfg, save_name: 'x_gdes', export_dir: path.join(tmp, 'out', 'x_gdes'), tokenizer_dir: '/nonexistent'}
    fs.writeFileSync(path.join(runDir, 'model', 'model.json'), JSON.stringify(record))
    return runDir
  }

  it('refuses a folder that is not a run directory (exit 2)', async () => {
    const e = await failure(exportRun({runDir: tmp}))
    expect([e.code, e.exitCode]).to.deep.equal(['export.no_model', 2])
  })

  it('refuses a run without a complete checkpoint (exit 1)', async () => {
    const runDir = fakeRun()
    fs.mkdirSync(path.join(runDir, 'checkpoints', 'step-3.tmp-999999'), {recursive: true}) // an unfinished write
    const e = await failure(exportRun({runDir}))
    expect([e.code, e.exitCode]).to.deep.equal(['export.no_checkpoint', 1])
    const s = await failure(exportRun({runDir, step: 3}))
    expect(s.code).to.equal('export.no_step')
  })

  it('refuses a checkpoint written for another model, and writes nothing', async () => {
    const runDir = fakeRun()
    saveCheckpoint({runDir, step: 1, tensors: {'model.safetensors': new Map([['generator/deberta.embeddings.word_embeddings.weight', {shape: [2, 2], data: new Float32Array(4)}]])}, state: {}})
    const e = await failure(exportRun({runDir}))
    expect(e.code).to.match(/^export\.(missing_tensor|shape_mismatch)$/)
    expect(fs.existsSync(path.join(tmp, 'out'))).to.equal(false)
  })
})
