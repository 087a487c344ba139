import {expect} from 'chai'
import {builtWorkerExecArgv} from '../../../src/data/tokenize-pool.js'

describe('builtWorkerExecArgv (the built data workers\' flags)', () => {
  it('inherits the parent\'s flags unless one of them preloads modules, in either spelling', () => {
    expect(builtWorkerExecArgv([])).to.equal(undefined)
    expect(builtWorkerExecArgv(['--max-old-space-size=4096', '--enable-source-maps'])).to.equal(undefined)
    for (const hook of [['--import', 'tsx'], ['--import=tsx'], ['--require', '/x/preflight.cjs'], ['-r', 'y'], ['--loader=z'], ['--experimental-loader', 'w']]) {
      expect(builtWorkerExecArgv(['--max-old-space-size=4096', ...hook]), hook.join(' ')).to.deep.equal([])
    }
  })
})
