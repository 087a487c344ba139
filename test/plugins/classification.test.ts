/**
 * The classification finetune plugin on a tiny DeBERTa-v3 folder written here: a task it can
 * learn, the Hugging Face export (names, id2label/label2id, architectures), the random-init
 * baseline, the summary over seeds, and the errors for a missing model and a too-long max_length.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'chai'
import plugin from '../../plugins/classification/index.js'
import debertaV3 from '../../plugins/deberta-v3/index.js'
import {classifierConfig, headLayout} from '../../plugins/classification/head-layouts.js'
import {writeModelFolder} from '../../src/checkpoint/index.js'
import {readSafetensors} from '../../src/checkpoint/safetensors.js'
import {MISSING_LABEL_MODES} from '../../src/data/labelled/prepare-labelled-data.js'
import {LABELLED_FORMATS} from '../../src/data/labelled/read-labelled-file.js'
import {RtdError} from '../../src/errors.js'
import {SELECTION_METRICS} from '../../src/finetune/train-classifier.js'
import type {RunState} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {trainTokenizer} from '../../src/tokenizer/index.js'

const GOOD = ['great', 'lovely', 'superb', 'fine', 'happy', 'bright']
const BAD = ['awful', 'dull', 'broken', 'sad', 'poor', 'grim']

function rows(n: number, offset: number): {text: string; label: string}[] {
  return Array.from({length: n}, (_, i) => {
    const pos = (i + offset) % 2 === 0
    const w = (pos ? GOOD : BAD)[(i * 7 + offset) % 6]
    return {text: `${w} movie with a plot and some actors`, label: pos ? 'pos' : 'neg'}
  })
}

describe('classification finetune plugin', function () {
  this.timeout(240_000)
  let dir: string
  let modelDir: string
  let records: Record<string, any>[]

  const context = (): RunContext => ({
    pipeline: {runtime: {backend: 'wasm', threads: 1}},
    pipelineFile: path.join(dir, 'pipeline.yaml'),
    runDir: path.join(dir, 'run'),
    cacheDir: path.join(dir, 'cache'),
    seed: 5,
    log: {info: () => {}, warn: () => {}, debug: () => {}},
    metrics: {write: (r) => records.push(r)},
    signal: new AbortController().signal,
    resolvePath: (p) => path.resolve(dir, p),
    progress: () => ({update: () => {}, stop: () => {}}),
    architecture: () => debertaV3,
    architectureForModelType: (t) => (debertaV3.modelTypes.includes(t) ? debertaV3 : undefined),
  })
  const options = (o: Record<string, unknown>) => {
    const value: Record<string, any> = {data: {train: {files: 'train.jsonl'}, test: {files: 'test.jsonl'}, max_length: 16}, from: 'encoder', seeds: [1, 2], schedule: {epochs: 6, batch_size: 8, lr: 3e-3, warmup: 0.1, patience: 0}, ...o}
    const validate = new Ajv2020({useDefaults: true, strict: false}).compile(plugin.schema)
    expect(validate(value), JSON.stringify(validate.errors)).to.equal(true)
    return value as any
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-classification-'))
    fs.writeFileSync(path.join(dir, 'train.jsonl'), rows(64, 0).map((r) => JSON.stringify(r)).join('\n'))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), rows(24, 1).map((r) => JSON.stringify(r)).join('\n'))
    const tokenizer = await trainTokenizer({texts: [...rows(64, 0), ...rows(24, 1)].map((r) => r.text), type: 'wordpiece', vocabSize: 80, minFrequency: 1})
    const tokDir = path.join(dir, 'tok')
    await tokenizer.save(tokDir)
    const networks = await debertaV3.load()
    const config = networks.configs.fromScratch(
      {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32, position_buckets: 8, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, initializer_range: 0.02},
      tokenizer.vocabSize,
    )
    const encoder = networks.createEncoder({config, seed: 11})
    modelDir = path.join(dir, 'encoder')
    writeModelFolder({
      dir: modelDir,
      config: {...networks.configs.toHf(config), architectures: ['DebertaV2Model']},
      tensors: encoder.exportTensors() as Map<string, {shape: number[]; data: Float32Array}>,
      extraFiles: Object.fromEntries(fs.readdirSync(tokDir).map((f) => [f, fs.readFileSync(path.join(tokDir, f))])),
    })
    encoder.dispose()
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))
  beforeEach(() => {
    records = []
  })

  it('declares the same enums in schema.json as the code', () => {
    const s = plugin.schema as any
    expect(s.$defs.source.properties.format.enum).to.deep.equal([...LABELLED_FORMATS])
    expect(s.properties.data.properties.missing_labels.enum).to.deep.equal([...MISSING_LABEL_MODES])
    expect(s.properties.schedule.properties.metric.enum).to.deep.equal([...SELECTION_METRICS])
  })

  it('names the head as transformers does for DeBERTa-v2 and ELECTRA, with their dropouts, and refuses other model types', () => {
    const d = headLayout({hf: {model_type: 'deberta-v2', hidden_size: 32, hidden_dropout_prob: 0.1}})
    expect(d).to.include({hfArchitecture: 'DebertaV2ForSequenceClassification', dense: 'pooler.dense', out: 'classifier', dropoutIn: 0, dropoutOut: 0.1})
    expect(d.configExtras).to.include({pooler_hidden_size: 32, pooler_hidden_act: 'gelu'})
    const e = headLayout({hf: {model_type: 'electra', hidden_dropout_prob: 0.1, classifier_dropout: 0.2}})
    expect(e).to.include({hfArchitecture: 'ElectraForSequenceClassification', dense: 'classifier.dense', out: 'classifier.out_proj', dropoutIn: 0.2, dropoutOut: 0.2})
    expect(headLayout({hf: {model_type: 'electra', hidden_dropout_prob: 0.1}, dropout: 0}).dropoutOut).to.equal(0)
    expect(() => headLayout({hf: {model_type: 'bert'}})).to.throw(/model_type `bert`/)
    const c = classifierConfig({hf: {model_type: 'deberta-v2', architectures: ['DebertaV2Model']}, layout: d, labels: ['a', 'b', 'c']})
    expect(c).to.deep.include({architectures: ['DebertaV2ForSequenceClassification'], id2label: {0: 'a', 1: 'b', 2: 'c'}, label2id: {a: 0, b: 1, c: 2}})
  })

  it('learns a keyword task on the pretrained encoder, reports every seed and the mean over seeds, and exports a DebertaV2ForSequenceClassification folder', async () => {
    const state: RunState = {}
    const stage = await plugin.create(options({name: 'kw'}), context())
    await stage.run(state)
    const seeds = records.filter((r) => r.type === 'finetune_seed')
    expect(seeds.map((r) => r.seed)).to.deep.equal([1, 2])
    for (const r of seeds) expect(r.test_accuracy, JSON.stringify(r)).to.be.at.least(0.9)
    const summary = records.find((r) => r.type === 'finetune_summary')!
    const accs = seeds.map((r) => r.test_accuracy)
    expect(summary['kw/test_accuracy_mean']).to.be.closeTo((accs[0] + accs[1]) / 2, 1e-12)
    expect(summary['kw/test_accuracy_std']).to.be.closeTo(Math.abs(accs[0] - accs[1]) / Math.SQRT2, 1e-12)
    expect(state.metrics!['kw/test_macro_f1_mean']).to.be.a('number').and.not.NaN
    expect(records.filter((r) => r.type === 'finetune_eval').length).to.be.at.least(2)

    const out = state.outputs!['finetune/kw']
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))
    expect(config.architectures).to.deep.equal(['DebertaV2ForSequenceClassification'])
    expect(config.id2label).to.deep.equal({0: 'neg', 1: 'pos'})
    expect(config.label2id).to.deep.equal({neg: 0, pos: 1})
    expect(config.model_type).to.equal('deberta-v2')
    const tensors = readSafetensors(path.join(out, 'model.safetensors')).tensors
    expect(tensors.get('pooler.dense.weight')!.shape).to.deep.equal([32, 32])
    expect(tensors.get('classifier.weight')!.shape).to.deep.equal([2, 32])
    expect(tensors.has('classifier.bias')).to.equal(true)
    expect(tensors.has('deberta.embeddings.word_embeddings.weight')).to.equal(true)
    expect(fs.existsSync(path.join(out, 'tokenizer.json'))).to.equal(true)
  })

  it('starts from fresh weights with init: random (same shapes, other values)', async () => {
    const state: RunState = {}
    await (await plugin.create(options({name: 'rnd', init: 'random', seeds: [1], schedule: {epochs: 1, batch_size: 8, lr: 1e-9, warmup: 0}}), context())).run(state)
    const name = 'deberta.encoder.layer.0.attention.self.query_proj.weight'
    const pre = readSafetensors(path.join(modelDir, 'model.safetensors')).tensors.get(name)!
    const rnd = readSafetensors(path.join(state.outputs!['finetune/rnd'], 'model.safetensors')).tensors.get(name)!
    expect(rnd.shape).to.deep.equal(pre.shape)
    let diff = 0
    for (let i = 0; i < pre.data.length; i++) diff += Math.abs(pre.data[i] - rnd.data[i])
    expect(diff / pre.data.length).to.be.greaterThan(1e-3) // lr 1e-9 leaves the init as it was: not the folder's weights
  })

  it('says what is wrong when there is no model to fine-tune or max_length exceeds the encoder', async () => {
    const fail = async (o: Record<string, unknown>): Promise<RtdError> => {
      try {
        await (await plugin.create(options(o), context())).run({})
      } catch (error) {
        expect(error).to.have.property('code').that.is.a('string')
        return error as RtdError
      }
      return expect.fail('expected an error')
    }
    expect((await fail({from: 'run'})).code).to.equal('finetune.no_model')
    const long = await fail({data: {train: {files: 'train.jsonl'}, max_length: 64}})
    expect(long.code).to.equal('finetune.max_length')
    expect(long.message).to.contain('32 positions')
    expect(plugin.check!(options({from: 'run'}), {finetune: [{}]})).to.have.length(1)
  })
})
