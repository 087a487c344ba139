import {expect} from 'chai'
import {decodeUtf8, firstInvalidUtf8Offset} from '../../../src/data/decode-utf8.js'

const bytes = (...b: number[]) => Uint8Array.from(b)

describe('decodeUtf8', () => {
  it('decodes valid multi-byte text', () => {
    expect(decodeUtf8({bytes: new TextEncoder().encode('naïve 日本 🎬'), file: 'x'})).to.equal('naïve 日本 🎬')
  })

  it('locates the first invalid sequence: stray continuation, overlong, surrogate, truncated', () => {
    expect(firstInvalidUtf8Offset(bytes(0x61, 0x80))).to.equal(1)
    expect(firstInvalidUtf8Offset(bytes(0x61, 0xc0, 0xaf))).to.equal(1) // overlong '/'
    expect(firstInvalidUtf8Offset(bytes(0xe0, 0x80, 0xaf))).to.equal(0) // overlong 3-byte
    expect(firstInvalidUtf8Offset(bytes(0x41, 0x42, 0xed, 0xa0, 0x80))).to.equal(2) // UTF-16 surrogate
    expect(firstInvalidUtf8Offset(bytes(0x41, 0xe6, 0x97))).to.equal(1) // cut off at the end
    expect(firstInvalidUtf8Offset(new TextEncoder().encode('ok 🎬'))).to.equal(-1)
  })

  it('names the file and offset when decoding fails', () => {
    expect(() => decodeUtf8({bytes: bytes(0x68, 0x69, 0xff), file: 'corpus/a.txt'})).to.throw(/corpus\/a\.txt.*byte offset 2 \(byte 0xff\)/)
  })
})
