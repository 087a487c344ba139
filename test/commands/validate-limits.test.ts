import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {parseYamlSource, YAML_LIMITS} from '../../src/pipeline/yaml-source.js'
import {writeHostileYaml} from '../helpers/hostile-yaml.js'
import {runCli} from '../helpers/run-cli.js'

// Time and memory of each case: bench/yaml-limits.ts (timed tests are not reliable on a shared machine).
describe('rtd validate: hostile YAML is refused with the limit it broke and where', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-hostile-'))
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))
  for (const c of writeHostileYaml(tmp)) {
    it(`${c.name}: exit 2, one located issue naming the limit`, async () => {
      const r = await runCli({args: ['validate', c.file]})
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.contain('is not a valid pipeline (1 issue)')
      expect(r.stderr).to.match(c.expect)
      expect(r.stderr).to.not.match(/call stack|Map maximum|internal/i)
    })
  }
})

describe('YAML limits (readYamlSource)', () => {
  const read = (text: string) => parseYamlSource({file: '/x.yaml', displayFile: 'x.yaml', text, env: {}})

  it('accepts aliases, depth and size within the limits', () => {
    const nested = `${'['.repeat(YAML_LIMITS.maxDepth - 1)}1${']'.repeat(YAML_LIMITS.maxDepth - 1)}`
    const src = read(`base: &b {lr: 1, betas: [0.9, 0.99]}\nuse: [*b, *b]\ndeep: ${nested}\n`)
    expect(src.issues).to.deep.equal([])
    expect((src.value as any).use).to.deep.equal([{lr: 1, betas: [0.9, 0.99]}, {lr: 1, betas: [0.9, 0.99]}])
  })

  it('counts depth after alias expansion', () => {
    const inner = `${'['.repeat(40)}1${']'.repeat(40)}`
    const src = read(`a: &a ${inner}\nb: ${'['.repeat(40)}*a${']'.repeat(40)}\n`)
    expect(src.issues.map((i) => i.message)).to.deep.equal([`mappings and sequences nest deeper than ${YAML_LIMITS.maxDepth} levels (after expanding aliases)`])
    expect(src.issues[0].path).to.match(/^b(\[0\]){40}/)
  })

  it('refuses a mapping with too many keys before parsing it', () => {
    const text = Array.from({length: YAML_LIMITS.maxScalars}, (_, i) => `k${i}: 1\n`).join('')
    const src = read(text)
    expect(src.issues.map((i) => i.message)).to.deep.equal([`more than ${YAML_LIMITS.maxScalars} keys and values; a pipeline file this large is not supported`])
    expect(src.issues[0].origin).to.include({line: YAML_LIMITS.maxScalars / 2 + 1})
  })

  it('still reports a duplicate key, at the second one', () => {
    const src = read('a: 1\nb: 2\na: 3\n')
    expect(src.issues).to.have.length(1)
    expect(src.issues[0]).to.include({code: 'yaml.syntax'})
    expect(src.issues[0].message).to.contain('Map keys must be unique (`a` is written twice)')
    expect(src.issues[0].origin).to.include({line: 3, col: 1})
  })
})
