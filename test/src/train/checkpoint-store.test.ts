import {expect} from 'chai'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkpointsDir, loadLatestCheckpoint, saveCheckpoint, verifyCheckpoint} from '../../../src/train/checkpoint-store.js'

const tensors = (v: number): Record<string, Map<string, {shape: number[]; data: Float32Array}>> => ({
  'model.safetensors': new Map([['w', {shape: [2, 2], data: Float32Array.from([v, v + 1, v + 2, v + 3])}]]),
  'optimizer.safetensors': new Map([['m/w', {shape: [2], data: Float32Array.from([v, -v])}]]),
})

describe('checkpoint store', () => {
  let runDir: string
  beforeEach(() => {
    runDir = mkdtempSync(join(tmpdir(), 'rtd-ckpt-'))
  })
  afterEach(() => {
    rmSync(runDir, {recursive: true, force: true})
  })

  it('round-trips tensors and state, and points `latest` at the newest', () => {
    saveCheckpoint({runDir, step: 3, tensors: tensors(1), state: {epoch: 0, dataPosition: {index: 7}, rng: [1, 2, 3, 4]}})
    const dir = saveCheckpoint({runDir, step: 5, tensors: tensors(10), state: {epoch: 1, dataPosition: {index: 2}}})
    expect(dir).to.equal(join(checkpointsDir(runDir), 'step-5'))
    expect(readFileSync(join(checkpointsDir(runDir), 'latest'), 'utf8').trim()).to.equal('step-5')
    const c = loadLatestCheckpoint({runDir})!
    expect(c.step).to.equal(5)
    expect(c.state).to.deep.include({step: 5, epoch: 1, dataPosition: {index: 2}})
    expect(c.tensorFiles.sort()).to.deep.equal(['model.safetensors', 'optimizer.safetensors'])
    const m = c.readTensors('model.safetensors').get('w')!
    expect(m.shape).to.deep.equal([2, 2])
    expect(Array.from(m.data)).to.deep.equal([10, 11, 12, 13])
    expect(() => c.readTensors('nope.safetensors')).to.throw(/no tensor file nope/)
  })

  it('keeps only the newest `keep` checkpoints', () => {
    for (const step of [1, 2, 3, 4]) saveCheckpoint({runDir, step, tensors: tensors(step), state: {}, keep: 2})
    expect(readdirSync(checkpointsDir(runDir)).filter((n) => n.startsWith('step-')).sort()).to.deep.equal(['step-3', 'step-4'])
  })

  it('removes checkpoints of an abandoned later timeline and never prunes the one just written', () => {
    saveCheckpoint({runDir, step: 2, tensors: tensors(2), state: {}, keep: 5})
    mkdirSync(join(checkpointsDir(runDir), 'step-9')) // incomplete, from before a crash
    saveCheckpoint({runDir, step: 3, tensors: tensors(3), state: {}, keep: 1})
    expect(readdirSync(checkpointsDir(runDir)).filter((n) => n.startsWith('step-'))).to.deep.equal(['step-3'])
  })

  it('returns null when the run has no checkpoint', () => {
    expect(loadLatestCheckpoint({runDir})).to.equal(null)
  })

  it('ignores temp dirs and falls back past an incomplete or corrupt newer checkpoint', () => {
    saveCheckpoint({runDir, step: 2, tensors: tensors(2), state: {}, keep: 5})
    saveCheckpoint({runDir, step: 4, tensors: tensors(4), state: {}, keep: 5})
    const dir = checkpointsDir(runDir)
    // a writer killed mid-save leaves a temp dir
    mkdirSync(join(dir, 'step-9.tmp-99999999'))
    writeFileSync(join(dir, 'step-9.tmp-99999999', 'model.safetensors'), 'partial')
    // a step dir without a manifest (not produced by us, but must not be trusted)
    mkdirSync(join(dir, 'step-7'))
    writeFileSync(join(dir, 'step-7', 'state.json'), '{}')
    // a truncated tensor file in step-4
    const f = join(dir, 'step-4', 'model.safetensors')
    writeFileSync(f, readFileSync(f).subarray(0, 20))
    const skipped: string[] = []
    const c = loadLatestCheckpoint({runDir, onSkip: (d, why) => skipped.push(`${d.split('/').pop()}: ${why}`)})!
    expect(c.step).to.equal(2)
    expect(skipped).to.deep.equal(['step-7: no manifest.json', `step-4: model.safetensors has 20 bytes, manifest says ${readFileSync(join(dir, 'step-2', 'model.safetensors')).length}`])
  })

  it('detects a changed byte through the hash', () => {
    const d = saveCheckpoint({runDir, step: 1, tensors: tensors(1), state: {}})
    const f = join(d, 'optimizer.safetensors')
    const b = readFileSync(f)
    b[b.length - 1] ^= 1
    writeFileSync(f, b)
    expect(verifyCheckpoint({dir: d})).to.match(/does not match its SHA-256/)
    expect(verifyCheckpoint({dir: d, hashes: false})).to.equal(null)
  })

  it('re-saving an existing step replaces it and removes stale temp dirs of dead writers', () => {
    mkdirSync(join(checkpointsDir(runDir), 'step-1.tmp-99999999'), {recursive: true})
    saveCheckpoint({runDir, step: 1, tensors: tensors(1), state: {a: 1}})
    saveCheckpoint({runDir, step: 1, tensors: tensors(5), state: {a: 2}})
    const c = loadLatestCheckpoint({runDir})!
    expect(c.state.a).to.equal(2)
    expect(c.readTensors('model.safetensors').get('w')!.data[0]).to.equal(5)
    expect(readdirSync(checkpointsDir(runDir)).sort()).to.deep.equal(['latest', 'step-1'])
    expect(existsSync(join(checkpointsDir(runDir), 'step-1.tmp-99999999'))).to.equal(false)
  })
})
