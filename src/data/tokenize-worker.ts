/**
 * A data-stage worker thread (TokenizePool): counts the documents of .txt chunks, loads the
 * tokenizer the shard directory saves (the pool uses it only if its fingerprint equals the main
 * thread's), and encodes batches of documents (texts sent to it, or a chunk it reads itself)
 * into ids separated by split (encode-documents.ts), using the split mask the pool shares.
 */
import {parentPort} from 'node:worker_threads'
import {loadTokenizer} from '../tokenizer/index.js'
import type {TokenizerLike} from './prepared-data.js'
import {encodeDocuments} from './encode-documents.js'
import {chunkDocuments} from './text-chunks.js'
import type {FromTokenizeWorker, ToTokenizeWorker} from './tokenize-pool.js'

const port = parentPort
if (port === null) throw new Error('tokenize-worker.ts must run in a worker thread')
const send = (m: FromTokenizeWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)

let tokenizer: TokenizerLike | null = null
let isEval: Uint8Array = new Uint8Array(0)

port.on('message', (m: ToTokenizeWorker) => {
  try {
    switch (m.type) {
      case 'mask':
        isEval = m.isEval
        return
      case 'load':
        tokenizer = loadTokenizer({path: m.dir})
        send({type: 'loaded', id: m.id, fingerprint: tokenizer.fingerprint()})
        return
      case 'count': {
        const got = chunkDocuments(m.chunk)
        if ('invalidUtf8' in got) return send({type: 'invalid', id: m.id, ...got.invalidUtf8})
        let chars = 0
        for (const d of got.docs) chars += d.length
        send({type: 'counted', id: m.id, start: got.start, end: got.end, docs: got.docs.length, chars})
        return
      }
      case 'encode': {
        if (tokenizer === null) throw new Error('no tokenizer loaded')
        let texts: string[]
        if ('texts' in m) texts = m.texts
        else {
          const got = chunkDocuments({...m.chunk, aligned: true})
          if ('invalidUtf8' in got) return send({type: 'invalid', id: m.id, ...got.invalidUtf8})
          texts = got.docs
        }
        const tok = tokenizer
        const enc = encodeDocuments({encode: (t) => tok.encode(t), texts, isEval, firstDoc: m.firstDoc})
        const buffers = [enc.train.ids, enc.train.lengths, enc.eval.ids, enc.eval.lengths].map((a) => a.buffer as ArrayBuffer)
        send({type: 'encoded', id: m.id, encoded: enc}, buffers)
        return
      }
    }
  } catch (error) {
    send({type: 'error', id: m.type === 'mask' ? -1 : m.id, message: (error as Error).message})
  }
})
send({type: 'ready'})
