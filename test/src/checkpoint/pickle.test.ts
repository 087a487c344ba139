import {expect} from 'chai'
import {PyGlobal, unpickle} from '../../../src/checkpoint/pickle.js'
import {PickleBuilder} from '../../helpers/torch-bin-writer.js'

const run = (b: PickleBuilder, allowed = {}) => unpickle({data: b.bytes(), file: 'x.pkl', allowed})

describe('checkpoint/pickle', () => {
  it('decodes dicts, lists, tuples, ints, floats, booleans and None', () => {
    const b = new PickleBuilder().proto(4).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0) // FRAME
    b.op(0x7d).put().mark()
    b.str('ints').op(0x5d).mark().int(7).int(300).int(-5).int(2 ** 40).op(0x65) // EMPTY_LIST + APPENDS
    b.str('float').op(0x47, ...Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0])) // BINFLOAT 1.5 (big-endian)
    b.str('flags').op(0x88).op(0x89).op(0x4e).op(0x87) // TUPLE3(True, False, None)
    b.str('again').op(0x68, 0) // BINGET 0: the dict itself
    b.op(0x75).op(0x2e)
    const d = run(b) as Map<string, unknown>
    expect(d.get('ints')).to.deep.equal([7, 300, -5, 2 ** 40])
    expect(d.get('float')).to.equal(1.5)
    expect(d.get('flags')).to.deep.equal([true, false, null])
    expect(d.get('again')).to.equal(d)
  })

  it('decodes LONG1 values beyond 2^53 as bigint', () => {
    const b = new PickleBuilder().proto(2).op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).op(0x2e) // 2^64
    expect(run(b)).to.equal(2n ** 64n)
  })

  it('maps an allowed global through REDUCE to its JS function without executing anything else', () => {
    const b = new PickleBuilder().proto(2).global('collections', 'OrderedDict').op(0x29).op(0x52).op(0x2e)
    const out = run(b, {'collections.OrderedDict': {call: () => new Map([['made', true]])}})
    expect(out).to.deep.equal(new Map([['made', true]]))
  })

  it('keeps an allowed marker global as a PyGlobal but refuses to call it', () => {
    const marker = run(new PickleBuilder().proto(2).global('torch', 'HalfStorage').op(0x2e), {'torch.HalfStorage': {}})
    expect(marker).to.be.instanceOf(PyGlobal)
    expect((marker as PyGlobal).qualifiedName).to.equal('torch.HalfStorage')
    const called = new PickleBuilder().proto(2).global('torch', 'HalfStorage').op(0x29).op(0x52).op(0x2e)
    expect(() => run(called, {'torch.HalfStorage': {}})).to.throw(/allowed as a value but not as a call/)
  })

  it('rejects a global at the moment it is named, even if never called', () => {
    const b = new PickleBuilder().proto(2).global('subprocess', 'Popen').op(0x30).op(0x4e).op(0x2e)
    expect(() => run(b)).to.throw(/subprocess\.Popen.*not on the allow-list/)
  })

  it('rejects opcodes a state dict does not need (INST, NEWOBJ)', () => {
    expect(() => run(new PickleBuilder().proto(2).op(0x69))).to.throw(/unsupported pickle opcode 0x69/)
    expect(() => run(new PickleBuilder().proto(2).op(0x81))).to.throw(/unsupported pickle opcode 0x81/)
  })

  it('reports a truncated pickle instead of returning garbage', () => {
    expect(() => run(new PickleBuilder().proto(2).op(0x58, 10, 0, 0, 0, 0x41))).to.throw(/truncated/)
  })
})
