/**
 * The data stage's worker threads (tokenize-worker.ts): they count the documents of .txt chunks
 * and tokenize, the main thread takes the results in the order it asked for them. Work goes to
 * the worker with the fewest requests pending. The pool tokenizes only when every worker's
 * tokenizer has the main thread's fingerprint, so the ids are the ones the main thread would
 * compute.
 */
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import type {EncodedDocuments} from './encode-documents.js'
import type {TextChunk} from './text-chunks.js'

/** A chunk for a worker: the file's path instead of its index. */
export type PathChunk = {path: string; start: number; end: number}

export type ToTokenizeWorker =
  | {type: 'mask'; isEval: Uint8Array}
  | {type: 'load'; id: number; dir: string}
  | {type: 'count'; id: number; chunk: PathChunk}
  | {type: 'encode'; id: number; firstDoc: number; texts: string[]}
  | {type: 'encode'; id: number; firstDoc: number; chunk: PathChunk}
export type FromTokenizeWorker =
  | {type: 'ready'}
  | {type: 'loaded'; id: number; fingerprint: string}
  | {type: 'counted'; id: number; start: number; end: number; docs: number; chars: number}
  | {type: 'encoded'; id: number; encoded: EncodedDocuments}
  | {type: 'invalid'; id: number; offset: number; byte: number}
  | {type: 'error'; id: number; message: string}

/** A chunk's bytes are not valid UTF-8 (offset in the file). */
export class ChunkInvalidUtf8 extends Error {
  constructor(
    readonly offset: number,
    readonly byte: number,
  ) {
    super(`invalid UTF-8 at byte offset ${offset}`)
  }
}

type Reply = Exclude<FromTokenizeWorker, {type: 'ready'}>

interface Handle {
  worker: Worker
  pending: Map<number, {resolve: (m: Reply) => void; reject: (e: Error) => void}>
}

/**
 * Starts the worker entry next to this file: tokenize-worker.js when built; under tsx (tests,
 * npx tsx) the .ts file, through a bootstrap that registers tsx in the worker (Node 20 workers
 * do not get the parent's loader hooks).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./tokenize-worker.js', import.meta.url), {execArgv: builtWorkerExecArgv(process.execArgv)})
  const entry = new URL('./tokenize-worker.ts', import.meta.url).href
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, {eval: true})
}

const HOOK_FLAGS = ['--import', '--require', '-r', '--loader', '--experimental-loader']

/**
 * The execArgv of a built worker: the parent's (undefined: inherited) unless they preload
 * modules (--import tsx, --require ...), then none. The built worker runs only compiled
 * JavaScript, and a loader the parent runs under (tsx for benches) made each worker start
 * ~0.5 s slower and load every module through it. None rather than the rest: Node refuses V8
 * and process-wide flags in a worker's execArgv, and those apply to the worker anyway.
 */
export function builtWorkerExecArgv(execArgv: readonly string[]): string[] | undefined {
  const hooks = execArgv.some((a) => HOOK_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)))
  return hooks ? [] : undefined
}

export class TokenizePool {
  private nextId = 0
  private closed = false

  private constructor(private readonly handles: Handle[]) {}

  /** `workers` threads, started; null (after stopping them) when one fails to start. */
  static async start(params: {workers: number}): Promise<{pool: TokenizePool} | {pool: null; reason: string}> {
    const handles: Handle[] = []
    const ready: Promise<string | null>[] = []
    for (let i = 0; i < params.workers; i++) {
      const worker = startWorker()
      handles.push({worker, pending: new Map()})
      ready.push(
        new Promise((resolve) => {
          worker.once('message', (m: FromTokenizeWorker) => resolve(m.type === 'ready' ? null : 'unexpected first message'))
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

  /** Every worker loads the tokenizer saved in `dir`: null when all have `fingerprint`, else why not. */
  async loadTokenizer(params: {dir: string; fingerprint: string}): Promise<string | null> {
    const got = await Promise.all(this.handles.map((h) => this.request(h, {type: 'load', id: this.nextId++, dir: params.dir}).then((r) => r, (e: Error) => e)))
    for (const r of got) {
      if (r instanceof Error) return `a worker could not load the tokenizer: ${r.message}`
      if (r.type === 'loaded' && r.fingerprint !== params.fingerprint) return `the worker's tokenizer has fingerprint ${r.fingerprint}, not ${params.fingerprint}`
    }
    return null
  }

  /** The split mask (1 = eval document) every later encode uses; shared memory, not copied. */
  shareMask(isEval: Uint8Array): void {
    if (!(isEval.buffer instanceof SharedArrayBuffer)) throw new TypeError('the split mask must be in a SharedArrayBuffer')
    for (const h of this.handles) h.worker.postMessage({type: 'mask', isEval} satisfies ToTokenizeWorker)
  }

  /** The documents and characters of the lines that start in the chunk, and its bounds widened to line starts. */
  async count(chunk: PathChunk): Promise<{start: number; end: number; docs: number; chars: number}> {
    const r = await this.request(this.idlest(), {type: 'count', id: this.nextId++, chunk})
    if (r.type !== 'counted') throw new Error(`unexpected reply ${r.type}`)
    return r
  }

  /** Encode documents firstDoc.. : `texts`, or the documents of a chunk counted before (bounds at line starts). */
  async encode(params: {firstDoc: number} & ({texts: string[]} | {chunk: PathChunk})): Promise<EncodedDocuments> {
    const id = this.nextId++
    const m: ToTokenizeWorker = 'texts' in params ? {type: 'encode', id, firstDoc: params.firstDoc, texts: params.texts} : {type: 'encode', id, firstDoc: params.firstDoc, chunk: params.chunk}
    const r = await this.request(this.idlest(), m)
    if (r.type !== 'encoded') throw new Error(`unexpected reply ${r.type}`)
    return r.encoded
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.handles.map((h) => h.worker.terminate()))
    for (const h of this.handles) for (const p of h.pending.values()) p.reject(new Error('the tokenize pool was closed'))
  }

  private idlest(): Handle {
    let best = this.handles[0]
    for (const h of this.handles) if (h.pending.size < best.pending.size) best = h
    return best
  }

  private request(h: Handle, m: Exclude<ToTokenizeWorker, {type: 'mask'}>): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('the tokenize pool is closed'))
    return new Promise((resolve, reject) => {
      h.pending.set(m.id, {resolve, reject})
      h.worker.postMessage(m)
    })
  }

  private listen(h: Handle): void {
    h.worker.on('message', (m: FromTokenizeWorker) => {
      if (m.type === 'ready') return
      const p = h.pending.get(m.id)
      if (!p) return
      h.pending.delete(m.id)
      if (m.type === 'error') p.reject(new Error(`a data worker failed: ${m.message}`))
      else if (m.type === 'invalid') p.reject(new ChunkInvalidUtf8(m.offset, m.byte))
      else p.resolve(m)
    })
    h.worker.on('error', (e) => {
      for (const p of h.pending.values()) p.reject(e)
      h.pending.clear()
    })
  }
}

/** A TextChunk with its file's path. */
export function withPath(chunk: TextChunk, files: string[]): PathChunk {
  return {path: files[chunk.file], start: chunk.start, end: chunk.end}
}
