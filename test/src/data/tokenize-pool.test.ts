import {expect} from 'chai'
import {withoutModuleHooks} from '../../../src/data/tokenize-pool.js'

describe('withoutModuleHooks (the built data workers\' flags)', () => {
  it('drops the flags that preload modules, in both spellings, and keeps the others', () => {
    const argv = ['--require', '/x/preflight.cjs', '--import', 'file:///x/loader.mjs', '--max-old-space-size=4096', '-r', 'y', '--import=tsx', '--loader=z', '--experimental-loader', 'w', '--enable-source-maps']
    expect(withoutModuleHooks(argv)).to.deep.equal(['--max-old-space-size=4096', '--enable-source-maps'])
  })
})
