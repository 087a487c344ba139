/**
 * Listing, validating and describing plugins load no TensorFlow.js: the built-in plugins'
 * index.ts files import their implementations only in create/load/restore (issue 9). A child
 * process records every module it loads (test/helpers/record-loads.mjs).
 */
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {repoRoot} from '../../helpers/run-cli.js'

function loadsOf(pipeline: string): {stdout: string; urls: string[]} {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-loads-')), 'loads.txt')
  const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test/helpers/record-loads.mjs'), '--import', import.meta.resolve('tsx'), path.join(repoRoot, 'test/helpers/validate-child.ts'), pipeline], {
    cwd: repoRoot,
    env: {...process.env, RTD_RECORD_LOADS: out},
    encoding: 'utf8',
  })
  expect(r.status, r.stderr).to.equal(0)
  const urls = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l !== '')
  fs.rmSync(path.dirname(out), {recursive: true, force: true})
  return {stdout: r.stdout, urls}
}

describe('lazy plugin implementations', function () {
  this.timeout(120_000)

  it('rtd validate / plugins / schema of tiny-gdes.yaml load no @tensorflow module and no plugin implementation', () => {
    const {stdout, urls} = loadsOf('pipelines/tiny-gdes.yaml')
    expect(JSON.parse(stdout).plugins).to.include.members(['model/gdes', 'architecture/deberta-v3', 'evaluation/evaluation', 'data/text'])
    // the recorder works: it saw the pipeline loader and the plugins' light index files
    expect(urls.some((u) => u.endsWith('/src/pipeline/load-pipeline.ts'))).to.equal(true)
    expect(urls.some((u) => u.endsWith('/plugins/gdes/index.ts'))).to.equal(true)
    expect(urls.filter((u) => u.includes('/@tensorflow/'))).to.deep.equal([])
    for (const impl of ['gdes-stage', 'mlm-stage', 'evaluation-stage', 'text-stage', 'deberta-v3-networks']) expect(urls.filter((u) => u.includes(impl)), impl).to.deep.equal([])
    // ajv's compiler is loaded only when a schema must be compiled (the built CLI validates the built-ins with the precompiled validator): never imported with a module
    expect(urls.filter((u) => u.includes('/node_modules/ajv/'))).to.deep.equal([])
  })
})
