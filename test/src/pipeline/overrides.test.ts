import {expect} from 'chai'

import {PluginRegistry} from '../../../src/plugin/registry.js'
import {emptyOriginMap, pathKey} from '../../../src/pipeline/origins.js'
import {applyOverrides, parseOverride, parsePath, typeValue, type Override} from '../../../src/pipeline/overrides.js'
import {buildPipelineSchema} from '../../../src/pipeline/pipeline-schema.js'
import {schemasAtPath} from '../../../src/pipeline/schema-at-path.js'

const schema = buildPipelineSchema({registry: new PluginRegistry({builtins: []})})

function typed(path: (string | number)[], raw: string, value: unknown = {}) {
  return typeValue({raw, schemas: schemasAtPath({schema, value, path})})
}

describe('parseOverride', () => {
  it('splits key path and value at the first =', () => {
    expect(parseOverride('output.dir=a=b')).to.deep.equal({op: 'set', path: ['output', 'dir'], raw: 'a=b', text: 'output.dir=a=b'})
  })

  it('reads ~a.b as a deletion and list indices as numbers', () => {
    expect(parseOverride('~evaluation')).to.deep.equal({op: 'delete', path: ['evaluation'], text: '~evaluation'})
    expect(parsePath('plugins[1]')).to.deep.equal(['plugins', 1])
  })

  it('returns an issue for malformed arguments', () => {
    const bad = parseOverride('schedule.lr')
    expect(bad).to.have.property('code', 'override.syntax')
    expect(parseOverride('a..b=1')).to.have.property('code', 'override.syntax')
  })
})

describe('typeValue (typed by the schema)', () => {
  it('types numbers and integers as numbers', () => {
    expect(typed(['schedule', 'optimizer', 'lr'], '3e-4')).to.equal(3e-4)
    expect(typed(['schedule', 'batch_size'], '16')).to.equal(16)
  })

  it('types booleans only where the schema allows them', () => {
    const boolSchemas = [{type: 'boolean'}]
    expect(typeValue({raw: 'true', schemas: boolSchemas})).to.equal(true)
    expect(typeValue({raw: 'false', schemas: boolSchemas})).to.equal(false)
    // output.dir is a string: `true` stays the string "true"
    expect(typed(['output', 'dir'], 'true')).to.equal('true')
  })

  it('reads lists as [a,b] or a,b with typed items', () => {
    expect(typed(['schedule', 'optimizer', 'betas'], '0.8,0.99')).to.deep.equal([0.8, 0.99])
    expect(typed(['schedule', 'optimizer', 'betas'], '[0.5, 0.6]')).to.deep.equal([0.5, 0.6])
    expect(typed(['plugins'], './a.js,./b.js')).to.deep.equal(['./a.js', './b.js'])
  })

  it('types a number-or-schedule value as a number or a mapping', () => {
    expect(typed(['loss', 'lambda'], '10')).to.equal(10)
    expect(typed(['loss', 'lambda'], '{schedule: linear, start: 1, end: 50, steps: 100}')).to.deep.equal({schedule: 'linear', start: 1, end: 50, steps: 100})
  })

  it('keeps strings as written for string options', () => {
    expect(typed(['name'], '007')).to.equal('007')
  })

  it('falls back to YAML scalar typing for unknown keys', () => {
    expect(typed(['schedule', 'nonsense'], '12')).to.equal(12)
  })
})

describe('applyOverrides', () => {
  const apply = (value: Record<string, unknown>, texts: string[]) => {
    const origins = emptyOriginMap()
    const issues = applyOverrides({value, origins, overrides: texts.map((t) => parseOverride(t) as Override), schema})
    return {value, origins, issues}
  }

  it('sets nested values, creating sections, and records the override as origin', () => {
    const {value, origins} = apply({name: 'x'}, ['schedule.optimizer.lr=0.5'])
    expect(value).to.deep.equal({name: 'x', schedule: {optimizer: {lr: 0.5}}})
    expect(origins.values.get(pathKey(['schedule', 'optimizer', 'lr']))).to.deep.equal({kind: 'override', text: 'schedule.optimizer.lr=0.5'})
  })

  it('deletes keys and reports deleting a key that is not there', () => {
    const {value, issues} = apply({name: 'x', evaluation: {plugin: 'e'}, seed: 1}, ['~evaluation', '~sede'])
    expect(value).to.deep.equal({name: 'x', seed: 1})
    expect(issues).to.have.length(1)
    expect(issues[0]).to.include({code: 'override.path', path: 'sede', didYouMean: 'seed'})
  })

  it('reports a path that goes through a scalar', () => {
    const {issues} = apply({name: 'x', seed: 1}, ['seed.value=2'])
    expect(issues[0].message).to.match(/cannot go into seed/)
  })
})
