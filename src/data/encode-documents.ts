/**
 * A batch of documents -> token ids, already separated by split: the ids of the batch's train
 * documents concatenated (and one length per document), the same for its eval documents. Done
 * where the tokenizing is (a worker thread or the calling thread), so the main thread's share per
 * token is a few array copies into the packers.
 */

/** Ids of a split's documents in a batch, concatenated, and the number of ids of each. */
export interface SplitIds {
  ids: Int32Array
  lengths: Int32Array
}

export interface EncodedDocuments {
  /** Documents in the batch (both splits). */
  docs: number
  /** Their characters (String.length). */
  chars: number
  train: SplitIds
  eval: SplitIds
}

/** Ids appended to one growing array (one copy per document, nothing kept per document). */
class SplitBuffer {
  ids: Int32Array
  used = 0
  readonly lengths: Int32Array
  docs = 0

  constructor(maxDocs: number, idsGuess: number) {
    this.lengths = new Int32Array(maxDocs)
    this.ids = new Int32Array(Math.max(16, idsGuess))
  }

  add(p: Int32Array): void {
    if (this.used + p.length > this.ids.length) {
      const next = new Int32Array(Math.max(2 * this.ids.length, this.used + p.length))
      next.set(this.ids.subarray(0, this.used))
      this.ids = next
    }
    this.ids.set(p, this.used)
    this.used += p.length
    this.lengths[this.docs++] = p.length
  }

  /** Exactly-sized copies: the buffers are transferred, so they must not carry unused space. */
  take(): SplitIds {
    return {ids: this.ids.slice(0, this.used), lengths: this.lengths.slice(0, this.docs)}
  }
}

/**
 * Encodes `texts`, documents firstDoc.. of the corpus; isEval[i] = 1 puts document i in the eval
 * split. Each document's ids are copied out as soon as they are made, so they die young: keeping
 * one array per document until the batch ends made every scavenge in a worker copy thousands of
 * them (a worker's batch is a whole 1 MiB chunk, encoded without a break).
 */
export function encodeDocuments(params: {encode: (text: string) => Int32Array; texts: string[]; isEval: Uint8Array; firstDoc: number}): EncodedDocuments {
  const {texts, isEval, firstDoc} = params
  let chars = 0
  for (let k = 0; k < texts.length; k++) chars += texts[k].length
  // about 4 characters per id in English text: most batches never grow the train buffer
  const train = new SplitBuffer(texts.length, chars >> 2)
  const evalPart = new SplitBuffer(texts.length, chars >> 5)
  for (let k = 0; k < texts.length; k++) {
    const p = params.encode(texts[k])
    if (isEval[firstDoc + k]) evalPart.add(p)
    else train.add(p)
  }
  return {docs: texts.length, chars, train: train.take(), eval: evalPart.take()}
}
