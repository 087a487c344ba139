import {Errors} from '@oclif/core'
import {expect} from 'chai'

import {errorJson, formatError, toRtdError} from '../../../src/cli/to-rtd-error.js'
import {ConfigError, Interrupted, RuntimeFailure} from '../../../src/errors.js'

describe('toRtdError', () => {
  it('keeps rtd errors and their exit codes (2 config, 1 runtime, 130 interrupted)', () => {
    expect(toRtdError(new ConfigError('x', {code: 'a'})).exitCode).to.equal(2)
    expect(toRtdError(new RuntimeFailure('x', {code: 'a'})).exitCode).to.equal(1)
    expect(toRtdError(new Interrupted()).exitCode).to.equal(130)
  })

  it('maps oclif usage errors to exit 2 and anything else to an internal error with exit 1', () => {
    const usage = toRtdError(new Errors.CLIError('Nonexistent flag: --x', {exit: 2}))
    expect(usage).to.include({code: 'usage', exitCode: 2})
    const other = toRtdError(new TypeError('boom'))
    expect(other).to.include({code: 'internal', exitCode: 1, message: 'boom'})
  })

  it('formats errors for --json and for the terminal', () => {
    const e = new ConfigError('bad value', {code: 'pipeline.invalid', suggestions: ['fix it']})
    expect(errorJson(e)).to.deep.equal({error: {code: 'pipeline.invalid', message: 'bad value', suggestions: ['fix it'], exitCode: 2}})
    expect(formatError(e)).to.equal('Error (pipeline.invalid): bad value\n  hint: fix it')
  })
})
