import {EventEmitter} from 'node:events'

import {expect} from 'chai'

import {installInterruptHandler} from '../../../src/cli/interrupt.js'
import {Interrupted} from '../../../src/errors.js'

describe('installInterruptHandler', () => {
  it('aborts the signal on the first Ctrl-C and force-exits on the second', () => {
    const target = new EventEmitter()
    const notes: string[] = []
    let exits = 0
    const order: string[] = []
    const h = installInterruptHandler({
      target,
      notify: (m) => notes.push(m),
      forceExit: () => {
        exits++
        order.push('exit')
      },
      beforeExit: () => {
        order.push('before')
        throw new Error('ignored: the process exits anyway')
      },
    })
    expect(h.signal.aborted).to.equal(false)
    target.emit('SIGINT')
    expect(h.signal.aborted).to.equal(true)
    expect(h.signal.reason).to.be.instanceOf(Interrupted)
    expect(exits).to.equal(0)
    target.emit('SIGINT')
    expect(exits).to.equal(1)
    expect(order).to.deep.equal(['before', 'exit'])
    expect(notes).to.have.length(2)
    h.dispose()
    expect(target.listenerCount('SIGINT')).to.equal(0)
  })
})
