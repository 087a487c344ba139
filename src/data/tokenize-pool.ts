/**
 * Tokenization on worker threads, results in submission order. Each worker loads the saved
 * tokenizer (tokenize-worker.ts); the pool is used only when every worker's tokenizer has the
 * main thread's fingerprint, so the ids are the ones the main thread would compute.
 */
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

export type ToTokenizeWorker = {id: number; texts: string[]}
export type FromTokenizeWorker =
  | {type: 'ready'; fingerprint: string}
  | {type: 'failed'; message: string}
  | {type: 'done'; id: number; ids: Int32Array; lengths: Int32Array}
  | {type: 'error'; id: number; message: string}

export interface EncodedBatch {
  /** Ids of every text, concatenated. */
  ids: Int32Array
  /** Number of ids of each text. */
  lengths: Int32Array
}

interface Handle {
  worker: Worker
  pending: Map<number, {resolve: (b: EncodedBatch) => void; reject: (e: Error) => void}>
}

/**
 * Starts the worker entry next to this file: tokenize-worker.js when built; under tsx (tests,
 * npx tsx) the .ts file, through a bootstrap that registers tsx in the worker (Node 20 workers
 * do not get the parent's loader hooks).
 */
function startWorker(dir: string): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./tokenize-worker.js', import.meta.url), {workerData: {dir}})
  const entry = new URL('./tokenize-worker.ts', import.meta.url).href
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, {eval: true, workerData: {dir}})
}

export class TokenizePool {
  private nextId = 0
  private turn = 0
  private closed = false

  private constructor(private readonly handles: Handle[]) {}

  /**
   * `workers` threads with the tokenizer saved in `dir`; null (after stopping them) when one
   * cannot load it or loads a tokenizer with another fingerprint: the caller then tokenizes itself.
   */
  static async start(params: {dir: string; workers: number; fingerprint: string}): Promise<{pool: TokenizePool} | {pool: null; reason: string}> {
    const handles: Handle[] = []
    const ready: Promise<string | null>[] = []
    for (let i = 0; i < params.workers; i++) {
      const worker = startWorker(params.dir)
      const h: Handle = {worker, pending: new Map()}
      handles.push(h)
      ready.push(
        new Promise((resolve) => {
          const first = (m: FromTokenizeWorker) => {
            worker.off('message', first)
            if (m.type === 'ready') resolve(m.fingerprint === params.fingerprint ? null : `the worker's tokenizer has fingerprint ${m.fingerprint}, not ${params.fingerprint}`)
            else resolve(m.type === 'failed' ? `a worker could not load the tokenizer: ${m.message}` : 'unexpected first message')
          }
          worker.on('message', first)
          worker.once('error', (e) => resolve(`a worker failed to start: ${e.message}`))
        }),
      )
    }
    const problems = (await Promise.all(ready)).filter((r): r is string => r !== null)
    const pool = new TokenizePool(handles)
    if (problems.length > 0) {
      await pool.close()
      return {pool: null, reason: problems[0]}
    }
    for (const h of handles) pool.listen(h)
    return {pool}
  }

  get size(): number {
    return this.handles.length
  }

  /** Encode `texts` on the next worker (round robin: batches are about the same size). */
  encode(texts: string[]): Promise<EncodedBatch> {
    if (this.closed) return Promise.reject(new Error('the tokenize pool is closed'))
    const h = this.handles[this.turn++ % this.handles.length]
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      h.pending.set(id, {resolve, reject})
      h.worker.postMessage({id, texts} satisfies ToTokenizeWorker)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.handles.map((h) => h.worker.terminate()))
    for (const h of this.handles) for (const p of h.pending.values()) p.reject(new Error('the tokenize pool was closed'))
  }

  private listen(h: Handle): void {
    h.worker.on('message', (m: FromTokenizeWorker) => {
      if (m.type !== 'done' && m.type !== 'error') return
      const p = h.pending.get(m.id)
      if (!p) return
      h.pending.delete(m.id)
      if (m.type === 'done') p.resolve({ids: m.ids, lengths: m.lengths})
      else p.reject(new Error(`tokenizing in a worker failed: ${m.message}`))
    })
    h.worker.on('error', (e) => {
      for (const p of h.pending.values()) p.reject(e)
      h.pending.clear()
    })
  }
}
