import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {expandFiles} from '../../../src/data/expand-files.js'
import {ConfigError} from '../../../src/errors.js'

describe('expandFiles (data.source.files)', () => {
  let dir: string
  const expand = (patterns: string | string[]) => expandFiles({patterns, resolvePath: (p) => path.resolve(dir, p)}).map((f) => path.relative(dir, f))
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-glob-'))
    for (const f of ['d/a.txt', 'd/b.txt', 'd/c.txt', 'd/x.md', 'd/.hidden.txt', 'd/sub/e.txt', 'd/sub/deeper/f.txt', 'd/[lit].txt']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), {recursive: true})
      fs.writeFileSync(path.join(dir, f), f)
    }
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('a character class picks single characters', () => {
    expect(expand('d/[ab].txt')).to.deep.equal(['d/a.txt', 'd/b.txt'])
    expect(expand('d/[!a].txt')).to.deep.equal(['d/b.txt', 'd/c.txt'])
  })

  it('braces hold globs, not only names, and do not match hidden files', () => {
    expect(expand('d/{*.txt,*.md}')).to.deep.equal(['d/[lit].txt', 'd/a.txt', 'd/b.txt', 'd/c.txt', 'd/x.md'])
    expect(expand('d/{a,c}.txt')).to.deep.equal(['d/a.txt', 'd/c.txt'])
    expect(expand('d/.h*')).to.deep.equal(['d/.hidden.txt'])
  })

  it('** crosses folders (zero or more), * does not', () => {
    expect(expand('d/**/*.txt')).to.deep.equal(['d/[lit].txt', 'd/a.txt', 'd/b.txt', 'd/c.txt', 'd/sub/deeper/f.txt', 'd/sub/e.txt'])
    expect(expand('d/*/*.txt')).to.deep.equal(['d/sub/e.txt'])
    expect(expand('**/f.txt')).to.deep.equal(['d/sub/deeper/f.txt'])
  })

  it('takes a path that exists literally, a folder as every file under it, and an absolute glob', () => {
    expect(expand('d/[lit].txt')).to.deep.equal(['d/[lit].txt'])
    expect(expand('d/sub')).to.deep.equal(['d/sub/deeper/f.txt', 'd/sub/e.txt'])
    expect(expand([path.join(dir, 'd/*.md'), 'd/a.txt', 'd/a.txt'])).to.deep.equal(['d/a.txt', 'd/x.md'])
  })

  it('no match: a ConfigError naming the pattern, where it searched, and the syntax', () => {
    let err: unknown
    try {
      expand('d/*.rst')
    } catch (error) {
      err = error
    }
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('data.source_empty')
    expect((err as ConfigError).message).to.equal(`data source glob d/*.rst matches no files (searched for *.rst under ${path.join(dir, 'd')}).`)
    expect((err as ConfigError).suggestions[0]).to.contain('`[ab]` is one of a or b')
    expect(() => expand('missing.txt')).to.throw(ConfigError, /data source file missing.txt does not exist/)
  })
})
