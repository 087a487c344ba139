/**
 * Decompressors for every Parquet codec hub datasets use. hyparquet alone reads only
 * UNCOMPRESSED and SNAPPY; hyparquet-compressors adds ZSTD, LZ4 (Hadoop-framed and raw) and a
 * wasm SNAPPY. GZIP and BROTLI go through Node's own zlib (native, faster than the JS ports).
 * Loaded on first use so commands that never read Parquet do not pay for the wasm.
 */
import * as zlib from 'node:zlib'
import type {Compressors} from 'hyparquet'

/** Codecs readParquet can decode (LZO, deprecated in Parquet, is the one it cannot). */
export const PARQUET_CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW'] as const

let loaded: Promise<Compressors> | null = null

export function parquetCompressors(): Promise<Compressors> {
  loaded ??= import('hyparquet-compressors').then(({compressors}) => ({
    ...compressors,
    GZIP: (input: Uint8Array) => zlib.gunzipSync(input),
    BROTLI: (input: Uint8Array) => zlib.brotliDecompressSync(input),
  }))
  return loaded
}
