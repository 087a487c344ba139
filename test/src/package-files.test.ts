/**
 * What `npm pack` ships is enough to install: every file the addon's build reads (sources,
 * the headers they include, binding.gyp) and every target of package.json "imports" and "bin".
 */
import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {expect} from 'chai'

const root = path.resolve(import.meta.dirname, '../..')

describe('the published package', function () {
  this.timeout(60_000)
  let packed: Set<string>
  before(() => {
    // --ignore-scripts: list what would ship without building it first
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    packed = new Set((JSON.parse(out) as {files: {path: string}[]}[])[0]!.files.map((f) => f.path))
  })

  it('holds the native addon sources, the headers they include and its build files', () => {
    const gyp = fs.readFileSync(path.join(root, 'native/binding.gyp'), 'utf8')
    const sources = [...gyp.matchAll(/"([\w.-]+\.c)"/g)].map((m) => `native/${m[1]}`)
    expect(sources.length).to.be.greaterThan(0)
    const needed = ['native/binding.gyp', 'native/build.mjs', ...sources]
    for (const s of sources) {
      for (const m of fs.readFileSync(path.join(root, s), 'utf8').matchAll(/^#include "([^"]+)"/gm)) needed.push(`native/${m[1]}`)
    }
    expect(needed.filter((f) => !packed.has(f))).to.deep.equal([])
  })

  it('holds the targets of "bin" and "imports"', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {bin: Record<string, string>; imports: Record<string, string>}
    const targets = [...Object.values(pkg.bin), ...Object.values(pkg.imports)].map((t) => path.posix.normalize(t))
    for (const t of Object.values(pkg.imports)) if (t.endsWith('.js')) targets.push(path.posix.normalize(t.replace(/\.js$/, '.d.ts')))
    expect(targets.filter((f) => !packed.has(f))).to.deep.equal([])
  })
})
