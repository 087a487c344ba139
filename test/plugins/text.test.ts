import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'chai'
import plugin from '../../plugins/text/index.js'
import {FILE_FORMATS, PACKING_MODES, TOKENIZER_TYPES, TXT_MODES, type PreparedData} from '../../src/data/prepared-data.js'
import type {RunState} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..')
const spmDir = path.join(repoRoot, 'test/fixtures/tokenizer')

function context(params: {dir: string; cacheDir: string; records: Record<string, unknown>[]; signal?: AbortSignal}): RunContext {
  return {
    pipeline: {},
    pipelineFile: path.join(params.dir, 'pipeline.yaml'),
    runDir: params.dir,
    cacheDir: params.cacheDir,
    seed: 3,
    log: {info: () => {}, warn: () => {}, debug: () => {}},
    metrics: {write: (r) => params.records.push(r)},
    signal: params.signal ?? new AbortController().signal,
    resolvePath: (p) => path.resolve(params.dir, p),
    progress: () => ({update: () => {}, stop: () => {}}),
    architecture: () => expect.fail('this stage needs no architecture'),
  }
}

describe('text data plugin', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-text-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const schema = plugin.schema as any

  it('declares the same enums in schema.json as the code', () => {
    expect(schema.properties.packing.enum).to.deep.equal([...PACKING_MODES])
    expect(schema.properties.source.properties.txt_mode.enum).to.deep.equal([...TXT_MODES])
    expect(schema.properties.source.properties.format.enum).to.deep.equal([...FILE_FORMATS])
    expect(schema.properties.tokenizer.properties.train.properties.type.enum).to.deep.equal([...TOKENIZER_TYPES])
  })

  it('fills every default from schema.json and rejects two sources at once', () => {
    const validate = new Ajv2020({useDefaults: true, strict: false}).compile(schema)
    const opts: Record<string, any> = {}
    expect(validate(opts), JSON.stringify(validate.errors)).to.equal(true)
    expect(opts).to.include({max_length: 128, packing: 'pack', eval_fraction: 0.1, shard_rows: 16384})
    expect(opts.source.package).to.equal('nlp-corpus')
    expect(opts.tokenizer.train).to.include({type: 'wordpiece', vocab_size: 30000})
    expect(validate({source: {files: 'a.txt', hub: 'x/y'}})).to.equal(false)
    expect(validate({tokenizer: {from: 'x/y', train: {type: 'bpe', vocab_size: 100}}})).to.equal(false)
  })

  it('prepares shards, saves the tokenizer beside them and reuses them on the next run', async () => {
    const lines = Array.from({length: 40}, (_, i) => `Review ${i}: this movie was surprisingly good, and the ending made me smile.`)
    fs.writeFileSync(path.join(dir, 'reviews.txt'), lines.join('\n'))
    const options = {
      source: {files: 'reviews.txt', format: 'auto', column: 'text', txt_mode: 'line', split: 'train'},
      tokenizer: {from: spmDir},
      max_length: 32,
      packing: 'pack',
      eval_fraction: 0.1,
      shard_rows: 16384,
    } as const
    const records: Record<string, unknown>[] = []
    const ctx = context({dir, cacheDir: path.join(dir, 'cache'), records})
    const state: RunState = {}
    await (await plugin.create(options as any, ctx)).run(state)
    const data = state.data as PreparedData
    expect(data.cacheHit).to.equal(false)
    expect(data.manifest.train.documents).to.equal(36)
    expect(data.manifest.eval!.documents).to.equal(4)
    const row = data.train.row(0)
    expect(row[0]).to.equal(data.tokenizer.special.cls)
    expect(row[row.length - 1]).to.equal(data.tokenizer.special.sep)
    expect(data.tokenizer.decode(row.subarray(1, row.length - 1))).to.match(/^Review 0: this movie/)
    expect(fs.existsSync(path.join(data.tokenizerDir, 'tokenizer.json'))).to.equal(true)
    expect(state.outputs?.tokenizer).to.equal(data.tokenizerDir)
    expect(records[0]).to.include({stage: 'data', cache_hit: false, train_sequences: data.train.rows})

    const again: RunState = {}
    await (await plugin.create(options as any, ctx)).run(again)
    expect((again.data as PreparedData).cacheHit).to.equal(true)
    expect((again.data as PreparedData).shardDir).to.equal(data.shardDir)
  })

  it('trains a tokenizer on the train split and keeps it in the cache for the next run', async () => {
    const lines = Array.from({length: 60}, (_, i) => `document ${i} talks about ${['cats', 'dogs', 'birds'][i % 3]} and their owners in town`)
    fs.writeFileSync(path.join(dir, 'docs.jsonl'), lines.map((text) => JSON.stringify({text})).join('\n'))
    const options = {
      source: {files: 'docs.jsonl'},
      tokenizer: {train: {type: 'wordpiece', vocab_size: 120, min_frequency: 1}},
      max_length: 16,
      packing: 'truncate',
      eval_fraction: 0.1,
      shard_rows: 16384,
    } as const
    const ctx = context({dir, cacheDir: path.join(dir, 'cache'), records: []})
    const state: RunState = {}
    await (await plugin.create(options as any, ctx)).run(state)
    const data = state.data as PreparedData
    expect(data.tokenizer.kind).to.equal('wordpiece')
    expect(data.tokenizer.vocabSize).to.be.at.most(120)
    expect(data.tokenizer.special).to.include({pad: 0, cls: 1, sep: 2, unk: 3})
    expect(data.train.rows).to.equal(54)
    expect(fs.readdirSync(path.join(dir, 'cache', 'tokenizers'))).to.have.length(1)
    const again: RunState = {}
    await (await plugin.create(options as any, ctx)).run(again)
    expect((again.data as PreparedData).cacheHit).to.equal(true)
    expect((again.data as PreparedData).tokenizer.fingerprint()).to.equal(data.tokenizer.fingerprint())
  })
})
