/**
 * A tokenizer in a worker thread (the data stage's TokenizePool): loads the tokenizer the shard
 * directory saves, reports its fingerprint (the pool uses it only if it equals the main thread's),
 * then encodes batches of texts into one Int32Array of ids plus one length per text.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {loadTokenizer} from '../tokenizer/index.js'
import type {FromTokenizeWorker, ToTokenizeWorker} from './tokenize-pool.js'

const port = parentPort
if (port === null) throw new Error('tokenize-worker.ts must run in a worker thread')
const send = (m: FromTokenizeWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)

try {
  const tokenizer = loadTokenizer({path: (workerData as {dir: string}).dir})
  send({type: 'ready', fingerprint: tokenizer.fingerprint()})
  port.on('message', (m: ToTokenizeWorker) => {
    try {
      const parts = m.texts.map((t) => tokenizer.encode(t))
      const lengths = Int32Array.from(parts, (p) => p.length)
      let total = 0
      for (const p of parts) total += p.length
      const ids = new Int32Array(total)
      let at = 0
      for (const p of parts) {
        ids.set(p, at)
        at += p.length
      }
      send({type: 'done', id: m.id, ids, lengths}, [ids.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer])
    } catch (error) {
      send({type: 'error', id: m.id, message: (error as Error).message})
    }
  })
} catch (error) {
  send({type: 'failed', message: (error as Error).message})
}
