import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadShardedCheckpoint} from '../../../src/checkpoint/sharded.js'
import {writeTorchBin} from '../../helpers/torch-bin-writer.js'

describe('checkpoint/sharded', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-shard-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))
  const index = (map: Record<string, string>) => {
    const f = join(dir, 'pytorch_model.bin.index.json')
    writeFileSync(f, JSON.stringify({metadata: {total_size: 0}, weight_map: map}))
    return f
  }

  it('loads .bin shards named by pytorch_model.bin.index.json, each once', () => {
    writeTorchBin(join(dir, 'pytorch_model-00001-of-00002.bin'), {a: {dtype: 'F16', shape: [2], storage: [1, 2]}, b: {dtype: 'F32', shape: [1], storage: [3]}})
    writeTorchBin(join(dir, 'pytorch_model-00002-of-00002.bin'), {c: {dtype: 'F32', shape: [1], storage: [4]}})
    const r = loadShardedCheckpoint({indexFile: index({a: 'pytorch_model-00001-of-00002.bin', b: 'pytorch_model-00001-of-00002.bin', c: 'pytorch_model-00002-of-00002.bin'})})
    expect(r.files.map((f) => f.slice(dir.length + 1))).to.deep.equal(['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'])
    expect([...r.tensors.keys()]).to.deep.equal(['a', 'b', 'c'])
    expect([...r.tensors.get('c')!.data]).to.deep.equal([4])
  })

  it('rejects a tensor found in a shard other than the one the index names', () => {
    writeTorchBin(join(dir, 's1.bin'), {a: {dtype: 'F32', shape: [1], storage: [1]}})
    writeTorchBin(join(dir, 's2.bin'), {b: {dtype: 'F32', shape: [1], storage: [2]}})
    expect(() => loadShardedCheckpoint({indexFile: index({a: 's2.bin', b: 's2.bin'})})).to.throw(/a \(s2\.bin\)/)
  })

  it('rejects a tensor present in two shards', () => {
    writeTorchBin(join(dir, 's1.bin'), {a: {dtype: 'F32', shape: [1], storage: [1]}})
    writeTorchBin(join(dir, 's2.bin'), {a: {dtype: 'F32', shape: [1], storage: [2]}})
    expect(() => loadShardedCheckpoint({indexFile: index({a: 's1.bin', x: 's2.bin'})})).to.throw(/tensor a also appears in another shard/)
  })

  it('rejects shard paths that leave the folder and an index without weight_map', () => {
    expect(() => loadShardedCheckpoint({indexFile: index({a: '../x.bin'})})).to.throw(/leaves the folder/)
    const f = join(dir, 'bad.index.json')
    writeFileSync(f, '{"metadata": {}}')
    expect(() => loadShardedCheckpoint({indexFile: f})).to.throw(/weight_map/)
  })
})
