import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {loadPluginModule} from '../../../src/plugin/load-plugin-module.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const fixtures = path.join(root, 'test', 'fixtures', 'plugins')

async function rejection(p: Promise<unknown>): Promise<Error & {code?: string}> {
  try {
    await p
  } catch (error) {
    return error as Error & {code?: string}
  }
  throw new Error('expected a rejection')
}

describe('loadPluginModule', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-plugins-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('loads plugins exported as default, as `plugin` and as a `plugins` array', async () => {
    const names = []
    for (const f of ['line-count.mjs', 'counter-model.mjs', 'line-stats.mjs']) {
      const {plugins} = await loadPluginModule({specifier: `./${f}`, baseDir: fixtures})
      names.push(...plugins.map((p) => `${p.kind}/${p.name}`))
    }
    expect(names).to.deep.equal(['data/line-count', 'model/counter', 'evaluation/line-stats'])
  })

  it('resolves an ESM-only npm package from the pipeline folder', async () => {
    const pkg = path.join(tmp, 'node_modules', 'rtd-plugin-echo')
    fs.mkdirSync(path.join(pkg, 'lib'), {recursive: true})
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({name: 'rtd-plugin-echo', type: 'module', exports: {'.': {import: './lib/main.js'}}}))
    fs.writeFileSync(
      path.join(pkg, 'lib', 'main.js'),
      "export default {name: 'echo', kind: 'evaluation', summary: 's', schema: {type: 'object'}, create: () => ({run: async () => {}})}\n",
    )
    fs.mkdirSync(path.join(tmp, 'pipelines'))
    const {plugins, file} = await loadPluginModule({specifier: 'rtd-plugin-echo', baseDir: path.join(tmp, 'pipelines')})
    expect(plugins.map((p) => p.name)).to.deep.equal(['echo'])
    expect(file).to.equal(path.join(pkg, 'lib', 'main.js'))
  })

  it('loads a .ts plugin when running under tsx', async () => {
    fs.writeFileSync(path.join(tmp, 'p.ts'), "const n: string = 'typed'\nexport const plugin = {name: n, kind: 'data' as const, summary: '', schema: {}, create: () => ({run: async () => {}})}\n")
    const {plugins} = await loadPluginModule({specifier: './p.ts', baseDir: tmp})
    expect(plugins[0].name).to.equal('typed')
  })

  it('explains what is wrong with an invalid plugin export', async () => {
    const err = await rejection(loadPluginModule({specifier: './broken-plugin.mjs', baseDir: fixtures}))
    expect(err.code).to.equal('plugin.invalid')
    expect(err.message).to.equal(
      [
        'plugin `broken` from ./broken-plugin.mjs is invalid:',
        '  - kind must be one of data, model, evaluation, finetune, architecture, got "tokenizer"',
        '  - schema must be a JSON Schema object, got "nope"',
        '  - create must be a function, got undefined',
      ].join('\n'),
    )
  })

  it('reports a module without any plugin export and a missing module', async () => {
    fs.writeFileSync(path.join(tmp, 'empty.mjs'), 'export const x = 1\n')
    expect((await rejection(loadPluginModule({specifier: './empty.mjs', baseDir: tmp}))).message).to.match(/exports no plugin/)
    const missing = await rejection(loadPluginModule({specifier: './nope.mjs', baseDir: tmp}))
    expect(missing.code).to.equal('plugin.not_found')
    const pkg = await rejection(loadPluginModule({specifier: 'rtd-plugin-that-does-not-exist', baseDir: tmp}))
    expect(pkg.code).to.equal('plugin.not_found')
  })
})

describe('PluginRegistry', () => {
  it('registers loaded plugins and rejects a second plugin of the same kind and name', async () => {
    const registry = new PluginRegistry({builtins: []})
    await registry.load({specifier: './line-count.mjs', baseDir: fixtures})
    expect(registry.names('data')).to.deep.equal(['line-count'])
    const clash = {name: 'line-count', kind: 'data' as const, summary: '', schema: {}, create: () => ({run: async () => {}})}
    expect(() => registry.register({plugin: clash, source: 'other.js'})).to.throw(/data plugin `line-count` from other.js clashes with the one from .\/line-count.mjs/)
  })

  it('allows the same name for different kinds', () => {
    const registry = new PluginRegistry({builtins: []})
    const mk = (kind: 'data' | 'model') => ({name: 'same', kind, summary: '', schema: {}, create: () => ({run: async () => {}})})
    registry.register({plugin: mk('data'), source: 'a'})
    registry.register({plugin: mk('model'), source: 'b'})
    expect(registry.list().map((r) => `${r.plugin.kind}/${r.source}`)).to.deep.equal(['data/a', 'model/b'])
  })
})

describe('validatePlugin', () => {
  it('rejects an options schema that is not valid JSON Schema', async () => {
    const {validatePlugin} = await import('../../../src/plugin/validate-plugin.js')
    const bad = {name: 'x', kind: 'data', summary: '', schema: {type: 'object', properties: {n: {type: 'integr'}}}, create: () => ({})}
    expect(() => validatePlugin({value: bad, source: 'x.js'})).to.throw(/schema is not valid JSON Schema 2020-12: .*properties\/n\/type/)
  })
})
