import {expect} from 'chai'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadModelFolder, writeModelFolder} from '../../../src/checkpoint/model-folder.js'
import {readSafetensorsHeader, writeSafetensors} from '../../../src/checkpoint/safetensors.js'
import {ConfigError} from '../../../src/errors.js'
import {writeTorchBin} from '../../helpers/torch-bin-writer.js'

const CONFIG = {model_type: 'deberta-v2', hidden_size: 4, vocab_size: 10}

describe('checkpoint/model-folder', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-mf-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const st = (name: string, value: number) => writeSafetensors(join(dir, name), {w: {shape: [1], data: new Float32Array([value])}})
  const bin = (name: string, value: number) => writeTorchBin(join(dir, name), {w: {dtype: 'F16', shape: [1], storage: [value]}})
  const index = (name: string, map: Record<string, string>) => writeFileSync(join(dir, name), JSON.stringify({metadata: {total_size: 8}, weight_map: map}))

  it('prefers model.safetensors, then sharded safetensors, then pytorch_model.bin, then sharded bin', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG))
    bin('shard-b.bin', 4)
    index('pytorch_model.bin.index.json', {w: 'shard-b.bin'})
    expect(loadModelFolder({dir}).format).to.equal('pytorch-sharded')
    bin('pytorch_model.bin', 3)
    expect(loadModelFolder({dir})).to.deep.include({format: 'pytorch', weightsPath: join(dir, 'pytorch_model.bin')})
    st('shard-s.safetensors', 2)
    index('model.safetensors.index.json', {w: 'shard-s.safetensors'})
    const sharded = loadModelFolder({dir})
    expect(sharded.format).to.equal('safetensors-sharded')
    expect(sharded.weightsPaths).to.deep.equal([join(dir, 'shard-s.safetensors')])
    expect(sharded.tensors.get('w')!.data[0]).to.equal(2)
    st('model.safetensors', 1)
    const single = loadModelFolder({dir})
    expect(single.format).to.equal('safetensors')
    expect(single.config).to.deep.equal(CONFIG)
    expect(single.tensors.get('w')!.data[0]).to.equal(1)
  })

  it('loads an explicitly named weights file and config (a Microsoft generator)', () => {
    writeFileSync(join(dir, 'generator_config.json'), JSON.stringify({...CONFIG, num_hidden_layers: 1}))
    bin('pytorch_model.generator.bin', 0.5)
    const g = loadModelFolder({dir, weightsFile: 'pytorch_model.generator.bin', configFile: 'generator_config.json'})
    expect(g.format).to.equal('pytorch')
    expect(g.config.num_hidden_layers).to.equal(1)
    expect(g.tensors.get('w')!.data[0]).to.equal(0.5)
  })

  it('lists what the folder has when no weights are found', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG))
    writeFileSync(join(dir, 'tf_model.h5'), 'x')
    expect(() => loadModelFolder({dir}))
      .to.throw(ConfigError)
      .that.satisfies((e: ConfigError) => e.code === 'checkpoint.no_weights' && e.message.includes('config.json, tf_model.h5') && e.message.includes('pytorch_model.bin'))
  })

  it('names the missing config file', () => {
    st('model.safetensors', 1)
    expect(() => loadModelFolder({dir})).to.throw(/no config\.json; the folder has: model\.safetensors/)
  })

  it('fails on a shard index whose shard lacks a listed tensor, naming it', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG))
    st('a.safetensors', 1)
    index('model.safetensors.index.json', {w: 'a.safetensors', 'missing.weight': 'a.safetensors'})
    expect(() => loadModelFolder({dir})).to.throw(/missing\.weight \(a\.safetensors\)/)
  })

  it('merges tensors from several shards', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG))
    writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), {a: {shape: [1], data: new Float32Array([1])}})
    writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), {b: {shape: [2], data: new Float32Array([2, 3])}})
    index('model.safetensors.index.json', {a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors'})
    const m = loadModelFolder({dir})
    expect([...m.tensors.keys()].sort()).to.deep.equal(['a', 'b'])
    expect(m.weightsPaths).to.have.length(2)
  })

  it('writes config.json (2-space JSON) and a model.safetensors that reads back, into a new folder', () => {
    const out = join(dir, 'nested', 'export')
    writeModelFolder({dir: out, config: CONFIG, tensors: new Map([['w', {shape: [2], data: new Float32Array([1, 2])}]]), extraFiles: {'tokenizer.json': '{}'}})
    expect(readFileSync(join(out, 'config.json'), 'utf8')).to.equal(JSON.stringify(CONFIG, null, 2) + '\n')
    expect(readSafetensorsHeader(join(out, 'model.safetensors')).metadata).to.deep.equal({format: 'pt'})
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).to.equal('{}')
    const back = loadModelFolder({dir: out})
    expect([...back.tensors.get('w')!.data]).to.deep.equal([1, 2])
    expect(readdirSync(join(dir, 'nested'))).to.deep.equal(['export']) // no temp folder left
  })

  it('overwrites an existing folder file by file without leaving temp files', () => {
    const out = join(dir, 'export')
    mkdirSync(out)
    writeFileSync(join(out, 'README.md'), 'keep')
    writeModelFolder({dir: out, config: CONFIG, tensors: new Map([['w', {shape: [1], data: new Float32Array([7])}]])})
    writeModelFolder({dir: out, config: {...CONFIG, hidden_size: 8}, tensors: new Map([['w', {shape: [1], data: new Float32Array([8])}]])})
    expect(readdirSync(out).sort()).to.deep.equal(['README.md', 'config.json', 'model.safetensors'])
    expect(loadModelFolder({dir: out}).config.hidden_size).to.equal(8)
    expect(loadModelFolder({dir: out}).tensors.get('w')!.data[0]).to.equal(8)
  })

  it('leaves no folder behind when writing fails', () => {
    const out = join(dir, 'bad')
    expect(() => writeModelFolder({dir: out, config: CONFIG, tensors: new Map([['w', {shape: [3], data: new Float32Array([1])}]])})).to.throw(/has 3 elements but data has 1/)
    expect(existsSync(out)).to.equal(false)
    expect(readdirSync(dir)).to.deep.equal([])
  })
})
