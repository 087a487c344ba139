import {expect} from 'chai'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {repoRoot} from './helpers/run-cli.js'
import {electraTinyFixture, tinyFixture} from './src/model/fixture-path.js'

// Built by concatenation so this file does not match its own patterns.
const SHARED = '../' + 'shared'
const FORBIDDEN: {pattern: RegExp; why: string}[] = [
  {pattern: new RegExp(SHARED.replace(/[./]/g, '\\$&')), why: `names ${SHARED} (a folder only the project's own machines have)`},
  {pattern: new RegExp('/' + 'work/'), why: 'names an absolute path of the development machine'},
  {pattern: new RegExp('RTD_' + 'SHARED_DIR'), why: 'reads fixtures from outside the repository'},
]
const TEXT = /\.(ts|js|mjs|cjs|json|md|yaml|yml|py|sh|c|h|gyp|txt)$/

function files(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p))
    else if (TEXT.test(e.name) || e.name === 'run') out.push(p)
  }
  return out
}

describe('the repository stands alone', () => {
  it('no test, source, benchmark, plugin, pipeline, doc or CI file names a path outside the clone', () => {
    const roots = ['test', 'src', 'bench', 'plugins', 'pipelines', 'docs', 'fixtures', 'native', '.ci', 'bin']
    const top = ['README.md', 'package.json', 'oclif.manifest.json']
    const all = [...roots.flatMap((r) => files(path.join(repoRoot, r))), ...top.map((f) => path.join(repoRoot, f))]
    expect(all.length).to.be.greaterThan(100) // the scan saw the tree, not an empty folder
    const hits: string[] = []
    for (const file of all) {
      const lines = fs.readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, i) => {
        for (const f of FORBIDDEN) if (f.pattern.test(line)) hits.push(`${path.relative(repoRoot, file)}:${i + 1} ${f.why}`)
      })
    }
    expect(hits, hits.join('\n')).to.deep.equal([])
  })

  it('the reference fixtures the tests read are inside the repository and complete', () => {
    for (const dir of [tinyFixture, electraTinyFixture]) {
      expect(path.relative(repoRoot, dir).startsWith('..')).to.equal(false)
      for (const f of ['README.md', 'config.json', 'generator_config.json', 'rtd.json', 'model.safetensors', 'generator.safetensors', 'inputs.safetensors', 'expected.safetensors']) {
        expect(fs.existsSync(path.join(dir, f)), `${dir}/${f}`).to.equal(true)
      }
    }
  })
})
