import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {parquetMetadata, parquetReadObjects} from 'hyparquet'
import {parquetWriteBuffer} from 'hyparquet-writer'
import {ConfigError} from '../../../src/errors.js'
import {readDocumentsFile} from '../../../src/data/read-documents-file.js'
import {CODEC_DOCUMENTS, CODEC_ROWS} from '../../fixtures/parquet/codec-rows.js'

const committed = path.resolve(fileURLToPath(import.meta.url), '../../../fixtures/parquet')

/** Codec of every column chunk in a Parquet file (what the file really uses, not what its name says). */
function codecsOf(bytes: Uint8Array): string[] {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  return parquetMetadata(buf).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec))
}

describe('Parquet codecs', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-parquet-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const read = (file: string) => readDocumentsFile({file, format: 'auto', column: 'text', txtMode: 'line'})

  // Written here by hyparquet-writer: node:zlib compresses gzip and brotli, hyparquet-writer snappy.
  const written = [
    {codec: 'UNCOMPRESSED', compressors: {}},
    {codec: 'SNAPPY', compressors: {}},
    {codec: 'GZIP', compressors: {GZIP: (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b))}},
    {codec: 'BROTLI', compressors: {BROTLI: (b: Uint8Array) => new Uint8Array(zlib.brotliCompressSync(b))}},
  ] as const
  for (const w of written) {
    it(`reads a ${w.codec} file`, async () => {
      const bytes = new Uint8Array(parquetWriteBuffer({columnData: [{name: 'text', data: CODEC_ROWS, type: 'STRING'}], codec: w.codec, compressors: w.compressors}))
      expect(codecsOf(bytes)).to.deep.equal([w.codec])
      const f = path.join(dir, `${w.codec}.parquet`)
      fs.writeFileSync(f, bytes)
      expect(await read(f)).to.deep.equal(CODEC_DOCUMENTS)
    })
  }

  // Committed: compressed by libzstd / liblz4 (make-codec-files.ts says how to regenerate them).
  for (const [file, codec] of [['zstd.parquet', 'ZSTD'], ['lz4.parquet', 'LZ4'], ['lz4-raw.parquet', 'LZ4_RAW']] as const) {
    it(`reads a ${codec} file (${file}, compressed by the reference C library)`, async () => {
      const f = path.join(committed, file)
      const bytes = fs.readFileSync(f)
      expect(codecsOf(bytes)).to.deep.equal([codec])
      // hyparquet on its own cannot: the codec support is what makes this pass
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
      const bare = await parquetReadObjects({file: buf, columns: ['text']}).then(() => null, (e: Error) => e)
      expect(bare?.message).to.match(/unsupported compression codec/)
      expect(await read(f)).to.deep.equal(CODEC_DOCUMENTS)
    })
  }

  it('names the file and the codecs it reads when a codec is unsupported (LZO)', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({columnData: [{name: 'text', data: ['x'], type: 'STRING'}], codec: 'LZO', compressors: {LZO: (b: Uint8Array) => b}}))
    const f = path.join(dir, 'old.parquet')
    fs.writeFileSync(f, bytes)
    const err = await read(f).then(() => null, (e: unknown) => e)
    expect(err).to.be.instanceOf(ConfigError)
    expect((err as ConfigError).message).to.contain(f).and.contain('LZO')
    expect((err as ConfigError).suggestions.join(' ')).to.contain('ZSTD')
  })
})
