import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {readPytorchBin} from '../../../src/checkpoint/pytorch-bin.js'
import {RuntimeFailure} from '../../../src/errors.js'
import {buildZip, PickleBuilder, writeTorchBin} from '../../helpers/torch-bin-writer.js'

describe('checkpoint/pytorch-bin', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-bin-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('reads a mixed fp16/fp32 state dict (like deberta-v3-xsmall generator) widened to float32', () => {
    const file = join(dir, 'pytorch_model.bin')
    writeTorchBin(file, {
      'deberta.embeddings.word_embeddings.weight': {dtype: 'F16', shape: [2, 3], storage: [0.5, -1, 2, 65504, 6.103515625e-5, -0]},
      'deberta.embeddings.LayerNorm.weight': {dtype: 'F32', shape: [3], storage: [0.1, 0.2, 0.3]},
      'lm_predictions.lm_head.bias': {dtype: 'F16', shape: [4], storage: [1, 2, 3, 4], parameter: true},
    })
    const {tensors} = readPytorchBin({file})
    expect([...tensors.keys()]).to.deep.equal(['deberta.embeddings.word_embeddings.weight', 'deberta.embeddings.LayerNorm.weight', 'lm_predictions.lm_head.bias'])
    const w = tensors.get('deberta.embeddings.word_embeddings.weight')!
    expect(w.dtype).to.equal('F16')
    expect(w.shape).to.deep.equal([2, 3])
    expect(w.data).to.be.instanceOf(Float32Array)
    expect([...w.data]).to.deep.equal([0.5, -1, 2, 65504, 6.103515625e-5, -0])
    const ln = tensors.get('deberta.embeddings.LayerNorm.weight')!
    expect(ln.dtype).to.equal('F32')
    expect([...ln.data]).to.deep.equal([...new Float32Array([0.1, 0.2, 0.3])])
    expect([...tensors.get('lm_predictions.lm_head.bias')!.data]).to.deep.equal([1, 2, 3, 4])
  })

  it('honours storage offsets, shared storages and non-contiguous strides', () => {
    const file = join(dir, 'w.bin')
    writeTorchBin(file, {
      whole: {dtype: 'F32', shape: [2, 3], storage: [1, 2, 3, 4, 5, 6], key: 's'},
      tail: {dtype: 'F32', shape: [2], storage: [1, 2, 3, 4, 5, 6], key: 's', offset: 4},
      // the transpose of `whole`: shape [3, 2], strides [1, 3]
      transposed: {dtype: 'F32', shape: [3, 2], storage: [1, 2, 3, 4, 5, 6], key: 's', stride: [1, 3]},
    })
    const {tensors} = readPytorchBin({file})
    expect([...tensors.get('whole')!.data]).to.deep.equal([1, 2, 3, 4, 5, 6])
    expect([...tensors.get('tail')!.data]).to.deep.equal([5, 6])
    expect([...tensors.get('transposed')!.data]).to.deep.equal([1, 4, 2, 5, 3, 6])
  })

  it('reads int64, float64 and bf16 storages and deflated zip entries', () => {
    const file = join(dir, 'w.bin')
    writeTorchBin(
      file,
      {
        ids: {dtype: 'I64', shape: [3], storage: [0, -7, 128000]},
        d: {dtype: 'F64', shape: [1], storage: [0.25]},
        b: {dtype: 'BF16', shape: [2], storage: [1.5, -2]},
      },
      {deflate: true, prefix: 'pytorch_model'},
    )
    const {tensors} = readPytorchBin({file})
    expect(tensors.get('ids')!.data).to.be.instanceOf(Int32Array)
    expect([...tensors.get('ids')!.data]).to.deep.equal([0, -7, 128000])
    expect([...tensors.get('d')!.data]).to.deep.equal([0.25])
    expect([...tensors.get('b')!.data]).to.deep.equal([1.5, -2])
  })

  for (const [label, build] of [
    ['os.system via GLOBAL', (p: PickleBuilder) => p.global('os', 'system')],
    ['builtins.eval via STACK_GLOBAL', (p: PickleBuilder) => p.stackGlobal('builtins', 'eval')],
    ['posix.system via GLOBAL', (p: PickleBuilder) => p.global('posix', 'system')],
  ] as const) {
    it(`rejects a pickle that names ${label}, naming the global and the file`, () => {
      const p = new PickleBuilder().proto(2)
      build(p)
      p.tuple((b) => b.str('touch pwned')).op(0x52).op(0x2e)
      const file = join(dir, 'evil.bin')
      writeFileSync(file, buildZip([['archive/data.pkl', p.bytes()], ['archive/version', Buffer.from('3\n')]]))
      const name = label.split(' ')[0]
      expect(() => readPytorchBin({file}))
        .to.throw(RuntimeFailure)
        .that.satisfies((e: RuntimeFailure) => e.code === 'pickle.forbidden_global' && e.message.includes(name) && e.message.includes(file))
    })
  }

  it('rejects torch.storage._load_from_bytes (not on the allow-list)', () => {
    const p = new PickleBuilder().proto(2).global('torch.storage', '_load_from_bytes').tuple((b) => b.str('x')).op(0x52).op(0x2e)
    const file = join(dir, 'evil.bin')
    writeFileSync(file, buildZip([['archive/data.pkl', p.bytes()]]))
    expect(() => readPytorchBin({file})).to.throw(/torch\.storage\._load_from_bytes/)
  })

  it('rejects the legacy non-zip torch.save format with what to do', () => {
    const file = join(dir, 'old.bin')
    // legacy files start with a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c
    writeFileSync(file, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]))
    expect(() => readPytorchBin({file}))
      .to.throw(RuntimeFailure)
      .that.satisfies((e: RuntimeFailure) => e.code === 'checkpoint.bin_legacy' && /legacy/.test(e.message) && e.suggestions.some((s) => s.includes('torch.save')))
  })

  it('rejects a storage that is shorter than the tensor view', () => {
    const file = join(dir, 'w.bin')
    writeTorchBin(file, {t: {dtype: 'F32', shape: [4], storage: [1, 2], offset: 0}})
    expect(() => readPytorchBin({file})).to.throw(/reaches past its storage/)
  })
})

/** Files written by real PyTorch (test/fixtures/checkpoint/make_fixtures.py, torch 1.13). */
describe('checkpoint/pytorch-bin on files written by torch.save', () => {
  const fixtures = join(fileURLToPath(import.meta.url), '../../../fixtures/checkpoint')
  const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as Record<string, {dtype: string; shape: number[]; values: number[]}>
  const DTYPE: Record<string, string> = {float16: 'F16', float32: 'F32', float64: 'F64', bfloat16: 'BF16', int64: 'I64'}

  it('reads every tensor with its dtype, shape and values (views, offsets, transposes, Parameters, module state dict)', () => {
    const {tensors} = readPytorchBin({file: join(fixtures, 'state_dict.bin')})
    expect([...tensors.keys()]).to.deep.equal(Object.keys(expected))
    for (const [name, e] of Object.entries(expected)) {
      const t = tensors.get(name)!
      expect(t.dtype, name).to.equal(DTYPE[e.dtype])
      expect(t.shape, name).to.deep.equal(e.shape)
      // fp16/bf16/int values are exact in float32; float64 is rounded to float32
      expect([...t.data], name).to.deep.equal([...Float32Array.from(e.values)])
    }
  })

  it('rejects the legacy format written with _use_new_zipfile_serialization=False', () => {
    expect(() => readPytorchBin({file: join(fixtures, 'legacy.bin')})).to.throw(/legacy \(pre-1\.6, non-zip\)/)
  })

  it('rejects a real pickle whose __reduce__ calls os.system, naming posix.system', () => {
    expect(() => readPytorchBin({file: join(fixtures, 'evil.bin')})).to.throw(/posix\.system.*not on the allow-list/)
  })
})
