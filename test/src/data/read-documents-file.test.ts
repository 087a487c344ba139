import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {tableToIPC, tableFromArrays} from 'apache-arrow'
import {expect} from 'chai'
import {parquetWriteBuffer} from 'hyparquet-writer'
import {ConfigError} from '../../../src/errors.js'
import {readDocumentsFile} from '../../../src/data/read-documents-file.js'
import {readSourceDocuments, resolveSource} from '../../../src/data/read-source.js'

describe('readDocumentsFile', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-docs-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const write = (name: string, content: string | Uint8Array) => {
    const f = path.join(dir, name)
    fs.writeFileSync(f, content)
    return f
  }
  const read = (file: string, extra: {column?: string; txtMode?: 'line' | 'block'} = {}) =>
    readDocumentsFile({file, format: 'auto', column: extra.column ?? 'text', txtMode: extra.txtMode ?? 'line'})

  it('reads one document per line from .txt, dropping blank lines', async () => {
    const f = write('a.txt', 'first doc\r\nsecond doc\n\n  \nthird\n')
    expect(await read(f)).to.deep.equal(['first doc', 'second doc', 'third'])
  })

  it('reads blank-line separated blocks from .txt in block mode', async () => {
    const f = write('a.txt', 'para one\nstill one\n\npara two\n \n\n\npara three')
    expect(await read(f, {txtMode: 'block'})).to.deep.equal(['para one\nstill one', 'para two', 'para three'])
  })

  it('reads a column from .jsonl', async () => {
    const f = write('a.jsonl', '{"text": "a b", "id": 1}\n\n{"text": "c", "id": 2}\n')
    expect(await read(f)).to.deep.equal(['a b', 'c'])
  })

  it('reads records, strings and columnar objects from .json', async () => {
    expect(await read(write('r.json', JSON.stringify([{body: 'x y'}, {body: 'z'}])), {column: 'body'})).to.deep.equal(['x y', 'z'])
    expect(await read(write('s.json', JSON.stringify(['one', 'two'])))).to.deep.equal(['one', 'two'])
    expect(await read(write('c.json', JSON.stringify({text: ['p', 'q']})))).to.deep.equal(['p', 'q'])
  })

  it('reads a string column from .parquet', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        {name: 'text', data: ['héllo world', 'second review', ''], type: 'STRING'},
        {name: 'label', data: [1, 0, 1], type: 'INT32'},
      ],
    })
    const f = write('a.parquet', new Uint8Array(buf))
    expect(await read(f)).to.deep.equal(['héllo world', 'second review'])
  })

  it('reads a string column from .arrow (IPC file)', async () => {
    const table = tableFromArrays({content: ['alpha beta', 'gamma'], n: Int32Array.from([1, 2])})
    const f = write('a.arrow', tableToIPC(table, 'file'))
    expect(await read(f, {column: 'content'})).to.deep.equal(['alpha beta', 'gamma'])
  })

  it('lists the existing columns when the column is wrong (jsonl, parquet, arrow)', async () => {
    const cases = [
      write('w.jsonl', '{"review": "a", "label": 1}\n'),
      write('w.parquet', new Uint8Array(parquetWriteBuffer({columnData: [{name: 'review', data: ['a'], type: 'STRING'}, {name: 'label', data: [1], type: 'INT32'}]}))),
      write('w.arrow', tableToIPC(tableFromArrays({review: ['a'], label: Int32Array.from([1])}), 'file')),
    ]
    for (const f of cases) {
      const err = await read(f).then(
        () => null,
        (e: unknown) => e,
      )
      expect(err, f).to.be.instanceOf(ConfigError)
      expect((err as ConfigError).code).to.equal('data.column_missing')
      expect((err as Error).message).to.contain('"text"').and.contain('"review"').and.contain('"label"')
    }
  })

  it('reports invalid UTF-8 with the file and byte offset', async () => {
    const bytes = new Uint8Array([...Buffer.from('good line\nbad '), 0xff, 0x41, 0x0a])
    const f = write('bad.txt', bytes)
    const err = await read(f).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('data.invalid_utf8')
    expect((err as Error).message).to.contain(f).and.contain('byte offset 14')
  })

  it('rejects a source whose files hold no documents, saying so', async () => {
    write('empty.txt', '\n  \n')
    const src = await resolveSource({source: {files: '*.txt'}, resolvePath: (p) => path.resolve(dir, p)})
    const err = await readSourceDocuments(src).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).code).to.equal('data.source_empty')
  })

  it('rejects a glob that matches nothing', async () => {
    const err = await resolveSource({source: {files: 'nope/*.txt'}, resolvePath: (p) => path.resolve(dir, p)}).catch((e: unknown) => e)
    expect((err as ConfigError).code).to.equal('data.source_empty')
  })

  it('expands globs in sorted order and hashes content', async () => {
    write('b.txt', 'b')
    write('a.txt', 'a')
    fs.mkdirSync(path.join(dir, 'sub'))
    write('sub/c.txt', 'c')
    const src = await resolveSource({source: {files: '**/*.txt'}, resolvePath: (p) => path.resolve(dir, p), cacheDir: dir})
    expect(src.files.map((f) => path.relative(dir, f))).to.deep.equal(['a.txt', 'b.txt', 'sub/c.txt'])
    expect(await readSourceDocuments(src)).to.deep.equal(['a', 'b', 'c'])
    const before = JSON.stringify(src.fingerprint)
    write('a.txt', 'A')
    const again = await resolveSource({source: {files: '**/*.txt'}, resolvePath: (p) => path.resolve(dir, p), cacheDir: dir})
    expect(JSON.stringify(again.fingerprint)).to.not.equal(before)
  })

  it('reads the sentences of the nlp-corpus package, one document each', async () => {
    const src = await resolveSource({source: {package: 'nlp-corpus'}, resolvePath: (p) => p})
    expect(src.files.length).to.be.greaterThan(10)
    const docs = await readSourceDocuments({...src, files: src.files.slice(0, 1)})
    const first = JSON.parse(fs.readFileSync(src.files[0], 'utf8')) as string[]
    expect(docs.length).to.equal(first.filter((s) => s.trim()).length)
    expect(docs[0]).to.equal(first[0].trim())
  })
})
