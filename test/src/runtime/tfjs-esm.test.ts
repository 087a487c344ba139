/**
 * `#tfjs` (src/runtime/tfjs-esm.js): every name of the installed @tensorflow/tfjs, the very same
 * objects (one tfjs per thread: one engine, one kernel registry), and the file is current.
 */
import * as fs from 'node:fs'
import {createRequire} from 'node:module'

import {expect} from 'chai'

import * as tf from '#tfjs'
import {tfjsEsmSource} from '../../../src/scripts/write-tfjs-esm.js'

describe('#tfjs', () => {
  it('is @tensorflow/tfjs itself: every export, the same objects', () => {
    const required = createRequire(import.meta.url)('@tensorflow/tfjs') as Record<string, unknown>
    const names = Object.keys(tf).filter((k) => k !== 'default')
    expect(names.sort()).to.deep.equal(Object.keys(required).sort())
    for (const k of names) expect((tf as Record<string, unknown>)[k], k).to.equal(required[k])
    // the engine the ES side drives is the one CommonJS packages (backends, tfjs-node) register with
    expect(tf.engine()).to.equal((required.engine as () => unknown)())
  })

  it("is how rtd's own modules import tfjs (an ES import of @tensorflow/tfjs costs the start-up ~0.6 s)", () => {
    const root = new URL('../../../', import.meta.url)
    const offenders: string[] = []
    for (const dir of ['src', 'plugins']) {
      for (const f of fs.readdirSync(new URL(dir, root), {recursive: true}) as string[]) {
        if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue
        const text = fs.readFileSync(new URL(`${dir}/${f}`, root), 'utf8')
        if (/^import (?!type )[^\n]* from '@tensorflow\/tfjs'/m.test(text)) offenders.push(`${dir}/${f}`)
      }
    }
    expect(offenders, "import * as tf from '#tfjs' instead").to.deep.equal([])
  })

  it('matches the installed tfjs (after an upgrade: npx tsx src/scripts/write-tfjs-esm.ts)', () => {
    const file = new URL('../../../src/runtime/tfjs-esm.js', import.meta.url)
    expect(fs.readFileSync(file, 'utf8')).to.equal(tfjsEsmSource())
  })
})
