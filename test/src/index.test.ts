/**
 * The public API as a user gets it: a project with rtd in node_modules imports `rtd` by name,
 * through package.json `exports` (so the built dist/, as npm would install it). Checks the
 * names src/index.ts promises, that deep imports are closed, and that the `types` condition
 * gives a TypeScript consumer the contract types.
 */
import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {promisify} from 'node:util'
import {expect} from 'chai'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const run = promisify(execFile)

const VALUES = [
  // plugin contract
  'PLUGIN_KINDS', 'STAGE_KINDS', 'TABLE_NAMES', 'PluginRegistry', 'loadPluginModule', 'validatePlugin', 'describePlugins', 'isEvaluable',
  // errors
  'RtdError', 'ConfigError', 'RuntimeFailure', 'Interrupted',
  // pipelines
  'loadPipeline', 'validatePipeline', 'buildPipelineSchema', 'runPipeline', 'BACKENDS', 'RECOMPUTE_MODES',
  // training
  'train', 'AdamW', 'learningRate', 'lossWeights', 'saveCheckpoint', 'loadLatestCheckpoint', 'verifyCheckpoint', 'checkpointsDir', 'initBackend',
  // model folders and export
  'loadModelFolder', 'writeModelFolder', 'readSafetensors', 'writeSafetensors', 'exportRun', 'loadRunModel', 'exportModelFolder',
]

describe('package exports (import "rtd" by name)', function () {
  this.timeout(120_000)
  let project: string

  before(function () {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm ci does) before this test')
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-consumer-'))
    fs.mkdirSync(path.join(project, 'node_modules'))
    fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'rtd'), 'dir')
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({name: 'consumer', type: 'module', private: true}))
  })
  after(() => project && fs.rmSync(project, {recursive: true, force: true}))

  it('exports the plugin and architecture contracts, trainer, AdamW, checkpoint store and exporter, and nothing deep', async () => {
    const script = `
      const rtd = await import('rtd')
      let deep = 'open'
      try { await import('rtd/dist/src/train/trainer.js') } catch (e) { deep = e.code }
      const pj = (await import('rtd/package.json', {with: {type: 'json'}})).default
      console.log(JSON.stringify({names: Object.keys(rtd), kinds: Object.fromEntries(Object.entries(rtd).map(([k, v]) => [k, typeof v])), deep, name: pj.name}))
    `
    fs.writeFileSync(path.join(project, 'check.mjs'), script)
    const {stdout} = await run(process.execPath, ['check.mjs'], {cwd: project})
    const got = JSON.parse(stdout.trim().split('\n').pop()!) as {names: string[]; kinds: Record<string, string>; deep: string; name: string}
    expect(got.names).to.include.members(VALUES)
    expect(got.kinds['train']).to.equal('function')
    expect(got.kinds['AdamW']).to.equal('function')
    expect(got.deep).to.equal('ERR_PACKAGE_PATH_NOT_EXPORTED')
    expect(got.name).to.equal('rtd')
  })

  it('gives TypeScript consumers the contract types through the `types` condition', async () => {
    fs.writeFileSync(
      path.join(project, 'consumer.ts'),
      `import {AdamW, train, type RtdPlugin, type RunState, type Stage, type Trainable, type TrainOptions, type LoadedCheckpoint, type ExportRunResult, type PreparedData, type ArchitecturePlugin, type ArchitectureNetworks} from 'rtd'
const stage: Stage = {run: async (state: RunState) => { state.outputs = {} }}
export const plugin: RtdPlugin<{n: number}> = {name: 'x', kind: 'data', summary: 's', schema: {}, create: (o) => (o.n > 0 ? stage : stage)}
export const arch: Pick<ArchitecturePlugin, 'name' | 'kind'> = {name: 'a', kind: 'architecture'}
export type N = ArchitectureNetworks['module']
export type T = [Trainable<number>, TrainOptions<number>, LoadedCheckpoint, ExportRunResult, PreparedData, typeof AdamW, typeof train]
// @ts-expect-error: not part of the public API
import type {Phase} from 'rtd'
`,
    )
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'consumer.ts']
    const r = await run(process.execPath, [tsc, ...args], {cwd: project}).catch((e: {stdout: string; code: number}) => e)
    expect(r.stdout, r.stdout).to.equal('')
  })
})
