import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'
import {documentBatches} from '../../../src/data/read-documents-file.js'
import {chunkDocuments, nominalChunks} from '../../../src/data/text-chunks.js'
import {Rng} from '../../../src/util/rng.js'

describe('text chunks (line-mode .txt read by byte ranges)', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-chunks-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const streamed = async (file: string) => {
    const out: string[] = []
    for await (const b of documentBatches({file, format: 'txt', column: 'text', txtMode: 'line'})) out.push(...b)
    return out
  }
  // every chunk read on its own, bounds widened to line starts, then concatenated
  const chunked = (file: string, chunkBytes: number) => {
    const size = fs.statSync(file).size
    const docs: string[] = []
    let at = 0
    for (const c of nominalChunks(0, size, chunkBytes)) {
      const got = chunkDocuments({path: file, start: c.start, end: c.end})
      if ('invalidUtf8' in got) throw new Error(`invalid at ${got.invalidUtf8.offset}`)
      expect(got.start, 'chunks meet without a gap or an overlap').to.equal(at)
      at = got.end
      // read again with the widened bounds: the same documents (what the tokenizing pass does)
      const again = chunkDocuments({path: file, start: got.start, end: got.end, aligned: true})
      expect(again).to.deep.equal(got)
      docs.push(...got.docs)
    }
    expect(at).to.equal(size)
    return docs
  }

  it('finds the documents the streaming reader finds, for any chunk size (CRLF, BOM, long lines across chunks, multi-byte characters, no final newline)', async () => {
    const rng = Rng.derive(11, 'chunk-property')
    const alphabet = ['a', 'b', ' ', '\t', '\r', '\n', '\n', '\n', 'é', '東', '🙂', '\u00a0', '\ufeff']
    for (let trial = 0; trial < 80; trial++) {
      const text = Array.from({length: rng.int(120)}, () => alphabet[rng.int(alphabet.length)]).join('')
      const file = path.join(dir, `t${trial}.txt`)
      fs.writeFileSync(file, (trial % 2 ? '\ufeff' : '') + text)
      const want = await streamed(file)
      for (const chunkBytes of [1, 2, 3, 7, 16, 1000]) expect(chunked(file, chunkBytes), `${JSON.stringify(text)} ${chunkBytes}`).to.deep.equal(want)
    }
  })

  it('reports invalid UTF-8 at the byte offset the streaming reader reports', async () => {
    const head = Buffer.from('fine line\n'.repeat(10) + 'é', 'utf8') // 102 bytes
    const file = path.join(dir, 'bad.txt')
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from([0x66, 0xff, 0x0a, 0x61, 0x0a])]))
    const got = chunkDocuments({path: file, start: 95, end: 105})
    expect(got).to.deep.equal({invalidUtf8: {offset: head.length + 1, byte: 0xff}})
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from([0xe6, 0x9d])])) // cut off at the end
    expect(chunkDocuments({path: file, start: 50, end: 200})).to.deep.equal({invalidUtf8: {offset: head.length, byte: 0xe6}})
  })
})
