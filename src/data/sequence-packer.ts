import type {PackingMode} from './prepared-data.js'

/**
 * Documents' token ids -> sequences of at most maxLength ids, each `[CLS] ... [SEP]`.
 * - `pack`: documents are concatenated in order and cut into chunks of maxLength - 2 ids
 *   (a chunk may span a document boundary; the last chunk may be shorter).
 * - `truncate`: one sequence per document, cut to maxLength - 2 ids.
 * Documents with no ids produce nothing.
 */
export class SequencePacker {
  private readonly body: number
  private readonly buf: Int32Array
  private fill = 1

  constructor(
    private readonly params: {
      maxLength: number
      mode: PackingMode
      cls: number
      sep: number
      /** Receives each finished sequence; the array is reused, copy it if kept. */
      emit: (seq: Int32Array) => void
    },
  ) {
    if (!(params.maxLength >= 3)) throw new RangeError(`max_length must be at least 3 ([CLS] x [SEP]), got ${params.maxLength}`)
    this.body = params.maxLength - 2
    this.buf = new Int32Array(params.maxLength)
    this.buf[0] = params.cls
  }

  add(ids: Int32Array): void {
    if (ids.length === 0) return
    if (this.params.mode === 'truncate') {
      const n = Math.min(ids.length, this.body)
      this.buf.set(ids.subarray(0, n), 1)
      this.fill = 1 + n
      this.flush()
      return
    }
    let pos = 0
    while (pos < ids.length) {
      const take = Math.min(ids.length - pos, this.body - (this.fill - 1))
      this.buf.set(ids.subarray(pos, pos + take), this.fill)
      this.fill += take
      pos += take
      if (this.fill - 1 === this.body) this.flush()
    }
  }

  /** The documents whose ids are `ids` cut by `lengths` (in order): the same sequences as add() of each. */
  addDocuments(ids: Int32Array, lengths: Int32Array): void {
    // packing concatenates documents anyway: one call for the batch
    if (this.params.mode === 'pack') return this.add(ids)
    let at = 0
    for (let k = 0; k < lengths.length; k++) {
      this.add(ids.subarray(at, at + lengths[k]))
      at += lengths[k]
    }
  }

  /** Emit the last, partial sequence (pack mode). */
  finish(): void {
    if (this.fill > 1) this.flush()
  }

  private flush(): void {
    this.buf[this.fill] = this.params.sep
    this.params.emit(this.buf.subarray(0, this.fill + 1))
    this.fill = 1
  }
}
