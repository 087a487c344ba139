import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {loadPipeline} from '../../../src/pipeline/load-pipeline.js'
import {formatIssue, PipelineInvalid} from '../../../src/pipeline/pipeline-issue.js'

// The built-in text plugin's one-of sections: data.source (hub | files | package) and
// data.tokenizer (from | train).
const BASE = `name: base
data:
  plugin: text
  source:
    package: nlp-corpus
    column: body
  tokenizer:
    train: {type: wordpiece, vocab_size: 100}
  max_length: 16
`

describe('extends: a one-of section given in another form replaces the base section', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-forms-'))
    fs.writeFileSync(path.join(tmp, 'base.yaml'), BASE)
    fs.writeFileSync(path.join(tmp, 'a.txt'), 'one\ntwo\n')
    fs.writeFileSync(path.join(tmp, 'b.txt'), 'three\n')
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const load = (file: string, overrides: string[] = []) => loadPipeline({file, cwd: tmp, env: {}, cpuCount: 2, overrides})
  async function issuesOf(file: string, overrides: string[] = []): Promise<string[]> {
    try {
      await load(file, overrides)
    } catch (error) {
      if (error instanceof PipelineInvalid) return error.issues.map(formatIssue)
      throw error
    }
    throw new Error('unexpectedly valid')
  }

  it('files over a base package: the base keys (package, column) are gone, errors locate in the child', async () => {
    fs.writeFileSync(path.join(tmp, 'child.yaml'), 'extends: base.yaml\ndata:\n  source:\n    files: [a.txt]\n')
    const {value} = await load('child.yaml')
    expect(value.data.source).to.deep.equal({files: ['a.txt'], format: 'auto', column: 'text', txt_mode: 'line', split: 'train'})
    // The rest of data still merges key by key.
    expect(value.data.max_length).to.equal(16)
    expect(value.data.tokenizer.train.vocab_size).to.equal(100)
    fs.writeFileSync(path.join(tmp, 'bad.yaml'), 'extends: base.yaml\ndata:\n  source:\n    files: [a.txt]\n    txt_mode: lines\n')
    const issues = await issuesOf('bad.yaml')
    expect(issues).to.have.length(1)
    expect(issues[0]).to.match(/^bad\.yaml:5:15: data\.source\.txt_mode: expected one of "line", "block"/)
  })

  it('tokenizer.from over a base tokenizer.train replaces it', async () => {
    fs.writeFileSync(path.join(tmp, 'child.yaml'), 'extends: base.yaml\ndata:\n  tokenizer:\n    from: some/model\n')
    const {value} = await load('child.yaml')
    expect(value.data.tokenizer).to.deep.equal({from: 'some/model'})
  })

  it('the same form still merges key by key', async () => {
    fs.writeFileSync(path.join(tmp, 'files-base.yaml'), 'extends: base.yaml\ndata:\n  source:\n    files: [a.txt]\n    txt_mode: block\n')
    fs.writeFileSync(path.join(tmp, 'child.yaml'), 'extends: files-base.yaml\ndata:\n  source:\n    files: [b.txt]\n')
    const {value} = await load('child.yaml')
    expect(value.data.source).to.include({txt_mode: 'block'})
    expect(value.data.source.files).to.deep.equal(['b.txt'])
  })

  it('two forms still given (an override on a child) name the base key, its file:line and how to drop it', async () => {
    fs.writeFileSync(path.join(tmp, 'child.yaml'), 'extends: base.yaml\nname: child\n')
    const issues = await issuesOf('child.yaml', ['data.source.files=a.txt'])
    expect(issues).to.deep.equal([
      'base.yaml:5:5: data.source: give exactly one of `hub`, `files`, `package`; it has `files` (command line override `data.source.files=a.txt`) and ' +
        '`package` (base.yaml:5:5, from a base file); to keep `files`, drop `package`: `~data.source.package` on the command line, or write `~package:` under `data.source` in child.yaml',
    ])
    // Following the hint works.
    const {value} = await load('child.yaml', ['data.source.files=a.txt', '~data.source.package'])
    expect(value.data.source.files).to.deep.equal(['a.txt'])
  })
})
