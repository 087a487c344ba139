/**
 * The evaluation plugin (SPEC A.8) on a real held-out split of the tiny corpus: seeded, so two
 * evaluations of the same weights give identical numbers and another seed gives other masks;
 * sums over the whole split (not means of batch means); max_batches; a missing eval split.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {plugin as evaluationPlugin} from '../../plugins/evaluation/index.js'
import type {Batch} from '../../src/data/batch-iterator.js'
import {defaultTokenizers} from '../../src/data/default-tokenizers.js'
import {prepareData} from '../../src/data/prepare-data.js'
import type {PreparedData} from '../../src/data/prepared-data.js'
import {RtdError} from '../../src/errors.js'
import {RtdPair, v3Config} from '../../src/model/index.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import type {RunState} from '../../src/plugin/contract.js'
import {RtdTrainable, type EvalBatchOutput, type Evaluable} from '../../src/pretrain/index.js'
import {initBackend} from '../../src/runtime/backend.js'
import {writeCorpus} from '../e2e/tiny-fixture.js'
import {drawSeed} from '../../src/eval/average-draws.js'
import {formatMetricsTable} from '../../plugins/evaluation/format-metrics-table.js'
import {architecture as debertaV3} from '../../plugins/deberta-v3/deberta-v3-networks.js'

function context(tmp: string, seed = 42): RunContext {
  const quiet = {info() {}, warn() {}, debug() {}}
  return {
    pipeline: {schedule: {batch_size: 8}},
    pipelineFile: path.join(tmp, 'p.yaml'),
    runDir: tmp,
    cacheDir: path.join(tmp, 'cache'),
    seed,
    log: quiet,
    metrics: {write() {}},
    signal: new AbortController().signal,
    resolvePath: (p) => path.resolve(tmp, p),
    progress: () => ({update() {}, stop() {}}),
    architecture: () => expect.fail('this stage needs no architecture'),
  }
}

/** Calls of evaluateBatch, and outputs from a fixed rule: label 1 on the first token of each row, logit +1 everywhere. */
class RecordingModel implements Evaluable {
  calls: {index: number; seed: number; tokens: number; rows: number}[] = []
  evaluateBatch(batch: Batch, opts: {seed: number; index: number}): EvalBatchOutput {
    const n = batch.batchSize * batch.seqLen
    const labels = Int32Array.from({length: n}, (_, k) => (k % batch.seqLen === 0 ? 1 : 0))
    let tokens = 0
    for (const m of batch.attentionMask) tokens += m
    this.calls.push({...opts, tokens, rows: batch.batchSize})
    return {discriminator: {logits: new Float32Array(n).fill(1), labels, mask: batch.attentionMask}}
  }
}

describe('evaluation plugin', function () {
  this.timeout(60_000)
  let tmp: string
  let data: PreparedData

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-eval-'))
    const corpus = writeCorpus(tmp)
    data = await prepareData({
      options: {source: {files: corpus, format: 'txt', txt_mode: 'line', column: 'text'} as never, tokenizer: {train: {type: 'wordpiece', vocab_size: 120}} as never, max_length: 32, packing: 'truncate', eval_fraction: 0.1, shard_rows: 16},
      cacheDir: path.join(tmp, 'cache'),
      seed: 42,
      resolvePath: (p) => path.resolve(tmp, p),
      tokenizers: defaultTokenizers({resolvePath: (p) => path.resolve(tmp, p)}),
    })
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const evaluator = async (options: Record<string, unknown>, seed = 42) => {
    const stage = await evaluationPlugin.create({max_batches: 0, ...options} as never, context(tmp, seed))
    return stage.evaluate!
  }

  it('sums over every token of the whole split, passing (seed, batch index) to the model', async () => {
    const model = new RecordingModel()
    const m = await (await evaluator({batch_size: 16}))(model, data, {step: 1, final: false})
    const evalRows = data.eval!.rows
    expect(model.calls.map((c) => c.index)).to.deep.equal(Array.from({length: Math.ceil(evalRows / 16)}, (_, i) => i))
    expect(model.calls.every((c) => c.seed === 42)).to.equal(true)
    expect(model.calls.reduce((s, c) => s + c.rows, 0)).to.equal(evalRows)
    const tokens = model.calls.reduce((s, c) => s + c.tokens, 0)
    expect(m.disc_tokens).to.equal(tokens)
    // positives = one per row; every token predicted replaced: accuracy = precision = rows / tokens over the split
    expect(m.disc_accuracy).to.be.closeTo(evalRows / tokens, 1e-12)
    expect(m.disc_precision).to.be.closeTo(evalRows / tokens, 1e-12)
    expect(m.disc_recall).to.equal(1)
  })

  it('max_batches caps the batches; evaluation.seed replaces the pipeline seed', async () => {
    const model = new RecordingModel()
    await (await evaluator({max_batches: 2, seed: 7}))(model, data, {step: 1, final: false})
    expect(model.calls.map((c) => [c.index, c.seed])).to.deep.equal([
      [0, 7],
      [1, 7],
    ])
  })

  it('gives identical numbers for two evaluations of the same weights, and other numbers with another seed', async () => {
    await initBackend({backend: 'wasm', native: 'off'})
    const cfg = v3Config({vocabSize: data.tokenizer.vocabSize, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, positionBuckets: 8, maxPositionEmbeddings: 64})
    const pair = new RtdPair({architecture: debertaV3, discriminator: cfg, generator: {...cfg, numHiddenLayers: 1}, sharing: 'gdes', seed: 1, maskTokenId: data.tokenizer.special.mask})
    try {
      const model = new RtdTrainable({pair, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: {rate: 0.15, recipe: 'all-mask'}, temperature: 1, seed: 42})
      const a = await (await evaluator({max_batches: 3}))(model, data, {step: 1, final: false})
      const b = await (await evaluator({max_batches: 3}))(model, data, {step: 2, final: true})
      expect(a).to.deep.equal(b)
      for (const k of ['disc_loss', 'disc_f1', 'disc_auc', 'mlm_loss', 'mlm_accuracy', 'replaced_rate', 'masked_tokens']) expect(a[k], k).to.be.a('number')
      const c = await (await evaluator({max_batches: 3}, 43))(model, data, {step: 1, final: false})
      expect(c.mlm_loss).to.not.equal(a.mlm_loss)
    } finally {
      pair.dispose()
    }
  })

  it('reports accuracy without special tokens beside the all-token figure', async () => {
    // RecordingModel labels the first token of each row ([CLS], never maskable) replaced and predicts replaced everywhere
    const model = new RecordingModel()
    const m = await (await evaluator({batch_size: 16}))(model, data, {step: 1, final: false})
    // every truncated row is [CLS] ... [SEP]: two special tokens per row
    const specials = 2 * data.eval!.rows
    expect(m.disc_tokens_no_special).to.equal(m.disc_tokens - specials)
    expect(m.disc_accuracy_no_special).to.equal(0) // no maskable token is labelled replaced, every one is predicted replaced
    expect(m.baseline_accuracy_no_special).to.equal(1)
    expect(m.disc_accuracy).to.be.greaterThan(0)
  })

  it('draws: k evaluates k seeded draws and reports their mean and spread; k = 1 is the plain evaluation', async () => {
    const model = new RecordingModel()
    await (await evaluator({max_batches: 1, draws: 3}))(model, data, {step: 1, final: false})
    const seeds = model.calls.map((c) => c.seed)
    expect(seeds).to.deep.equal([42, drawSeed(42, 1), drawSeed(42, 2)])
    expect(new Set(seeds).size).to.equal(3)

    await initBackend({backend: 'wasm', native: 'off'})
    const cfg = v3Config({vocabSize: data.tokenizer.vocabSize, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, positionBuckets: 8, maxPositionEmbeddings: 64})
    const pair = new RtdPair({architecture: debertaV3, discriminator: cfg, generator: {...cfg, numHiddenLayers: 1}, sharing: 'gdes', seed: 1, maskTokenId: data.tokenizer.special.mask})
    try {
      const rtd = new RtdTrainable({pair, special: data.tokenizer.special, tokenizerVocabSize: data.tokenizer.vocabSize, mask: {rate: 0.15, recipe: 'all-mask'}, temperature: 1, seed: 42})
      const one = await (await evaluator({max_batches: 2, draws: 1}))(rtd, data, {step: 1, final: false})
      const plain = await (await evaluator({max_batches: 2}))(rtd, data, {step: 1, final: false})
      expect(one).to.deep.equal(plain)
      expect(one).to.not.have.property('disc_auc_std')
      const second = await (await evaluator({max_batches: 2}, drawSeed(42, 1)))(rtd, data, {step: 1, final: false})
      const two = await (await evaluator({max_batches: 2, draws: 2}))(rtd, data, {step: 1, final: false})
      for (const k of ['disc_auc', 'disc_loss', 'mlm_loss', 'disc_accuracy_no_special']) {
        expect(two[k], k).to.be.closeTo((one[k] + second[k]) / 2, 1e-12)
        // sample std of two values = |a - b| / sqrt(2)
        expect(two[`${k}_std`], `${k}_std`).to.be.closeTo(Math.abs(one[k] - second[k]) / Math.SQRT2, 1e-12)
      }
      expect(two.disc_loss_std).to.be.greaterThan(0)
      expect(two.draws).to.equal(2)
      expect(formatMetricsTable(two)).to.match(/disc_auc\s+\d\.\d{4} ± \d\.\d{4}/)
      expect(formatMetricsTable(two)).to.not.include('disc_auc_std')
    } finally {
      pair.dispose()
    }
  })

  it('its own run does the final evaluation of the model stage\'s model and records it at the model\'s step', async () => {
    const lines: Record<string, unknown>[] = []
    const ctx = {...context(tmp), metrics: {write: (r: Record<string, unknown>) => void lines.push(r)}}
    const stage = await evaluationPlugin.create({max_batches: 2} as never, ctx)
    const model = new RecordingModel()
    const state: RunState = {data, model: {evaluable: model, step: 30, epoch: 2, export: {dir: tmp, write: () => ({})}}}
    await stage.run(state)
    expect(model.calls.map((c) => c.index)).to.deep.equal([0, 1])
    expect(state.metrics?.disc_recall).to.equal(1)
    expect(lines).to.deep.equal([{type: 'eval', step: 30, epoch: 2, final: true, ...state.metrics}])
  })

  it('refuses a pipeline without a held-out split', async () => {
    const evaluate = await evaluator({})
    const err = await evaluate(new RecordingModel(), {...data, eval: null}, {step: 1, final: true}).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(RtdError)
    expect((err as RtdError).code).to.equal('evaluation.no_eval_split')
  })
})
