import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {isZipFile, ZipReader} from '../../../src/checkpoint/zip.js'
import {buildZip} from '../../helpers/torch-bin-writer.js'

describe('checkpoint/zip', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtd-zip-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))
  const entries: [string, Uint8Array][] = [
    ['a/data.pkl', Buffer.from('pickle')],
    ['a/data/0', Buffer.alloc(1000, 3)],
  ]

  for (const opts of [{}, {deflate: true}, {zip64: true}, {zip64: true, deflate: true}]) {
    it(`reads entries of an archive written ${JSON.stringify(opts)}`, () => {
      const file = join(dir, 'x.zip')
      writeFileSync(file, buildZip(entries, opts))
      expect(isZipFile({file})).to.equal(true)
      const z = ZipReader.open({file})
      try {
        expect([...z.entries.keys()]).to.deep.equal(['a/data.pkl', 'a/data/0'])
        expect(z.read('a/data.pkl').toString()).to.equal('pickle')
        expect(z.read('a/data/0').equals(Buffer.alloc(1000, 3))).to.equal(true)
        expect(() => z.read('nope')).to.throw(/no entry nope/)
      } finally {
        z.close()
      }
    })
  }

  it('rejects a file without an end-of-central-directory record', () => {
    const file = join(dir, 'x.zip')
    writeFileSync(file, buildZip(entries).subarray(0, 60))
    expect(() => ZipReader.open({file})).to.throw(/not a valid zip archive/)
  })
})
