/**
 * TensorFlow.js internals are reached only through src/runtime/tfjs-internals.ts, where the
 * version check guards them: a file elsewhere in src/ or plugins/ that names one of the
 * internal fields of the engine or the wasm, cpu (and native) or webgpu backends, or casts an
 * engine/backend to an ad hoc shape, fails this test.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '#tfjs'
import {expect} from 'chai'
import {exclusiveBuffer, float32View} from '../../../src/runtime/exclusive-buffer.js'
import {internalsUnusable, PINNED_TFJS_VERSION} from '../../../src/runtime/tfjs-internals.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..')
const HOME = path.join('src', 'runtime', 'tfjs-internals.ts')

/** Internal fields of tfjs-core's engine and the wasm / cpu backends, and ad hoc casts to reach them. */
const INTERNALS: [string, RegExp][] = [
  ['wasm tensor table', /\bdataIdMap\b|\bdataIdNextNumber\b/],
  ['wasm heap', /\bHEAPU8\b|\bHEAPF32\b|\bHEAP32\b/],
  ['wasm C entry points', /\bcwrap\s*\(|\.tfjs\s*\.\s*(registerTensor|disposeData)\b/],
  ['engine state', /\bactiveTape\b|\.state\.tensorInfo\b|\btf\.engine\(\)\s+as\b/],
  // the cpu backend's DataStorage (native-backend/ extends the cpu backend); a typed array's own .set(array, offset) is no use
  ['cpu backend storage', /\.data\.(get|has|delete)\(|\.data\.set\([^,]*,\s*\{|\bfirstUse\b|\bnextDataId\b/],
  ['webgpu backend', /\btensorMap\b|\bmaxStorageBuffersPerShaderStage\b|\bonuncapturederror\b/],
  // a backend cast to a shape of its own (casts to the backends' exported classes are public typing)
  ['ad hoc backend shape', /\b(backend|findBackend)(\([^)]*\))?\s+as\s+unknown\s+as\s+(?!BackendWasm\b|MathBackendCPU\b)|\bthis\s+as\s+unknown\s+as\s+\{/],
]

function sources(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** `file:line what` for each use of an internal outside tfjs-internals.ts. */
function internalUses(files: string[]): string[] {
  return files.flatMap((file) => {
    if (path.relative(ROOT, file) === HOME) return []
    return fs.readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return [] // comments may name them
      return INTERNALS.filter(([, re]) => re.test(line)).map(([what]) => `${path.relative(ROOT, file)}:${i + 1} ${what}`)
    })
  })
}

describe('tfjs internals', () => {
  it('are used only in src/runtime/tfjs-internals.ts', () => {
    const files = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'plugins'))]
    expect(files.some((f) => path.relative(ROOT, f) === HOME)).to.equal(true)
    expect(internalUses(files).join('\n')).to.equal('')
  })

  it('the check catches a use (and skips comments)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-internals-'))
    try {
      const file = path.join(tmp, 'x.ts')
      fs.writeFileSync(
        file,
        [
          '// dataIdMap in a comment',
          'const heap = (tf.backend() as unknown as {wasm: {HEAPU8: Uint8Array}}).wasm.HEAPU8.buffer',
          'const limit = (args.backend as unknown as Gpu).device.limits.maxStorageBuffersPerShaderStage',
          'this.data.set(dataId, {values, dtype, refCount: 1})',
          'ids.data.set(more, offset) // a typed array copy',
          'const wasm = tf.backend() as unknown as BackendWasm // its exported class',
        ].join('\n'),
      )
      expect(internalUses([file]).map((u) => u.replace(/^.*:(\d+) /, '$1 '))).to.deep.equal(['2 wasm heap', '2 ad hoc backend shape', '3 webgpu backend', '3 ad hoc backend shape', '4 cpu backend storage'])
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })

  it('are usable on the pinned tfjs version, which is the installed one', () => {
    expect(tf.version.tfjs).to.equal(PINNED_TFJS_VERSION)
    expect(internalsUnusable({wasm: true, cpu: true})).to.equal(undefined)
  })

  it('give cpu a read-only view without a copy, and never a writable buffer', async () => {
    await tf.setBackend('cpu')
    const t = tf.tensor([1, 2, 3])
    try {
      expect(Array.from(float32View(t))).to.deep.equal([1, 2, 3])
      expect(exclusiveBuffer(t)).to.equal(undefined)
    } finally {
      t.dispose()
    }
  })
})
