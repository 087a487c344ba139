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

/** Encodes `texts`, documents firstDoc.. of the corpus; isEval[i] = 1 puts document i in the eval split. */
export function encodeDocuments(params: {encode: (text: string) => Int32Array; texts: string[]; isEval: Uint8Array; firstDoc: number}): EncodedDocuments {
  const {texts, isEval, firstDoc} = params
  const parts: Int32Array[] = new Array(texts.length)
  let trainDocs = 0
  let trainIds = 0
  let evalIds = 0
  let chars = 0
  for (let k = 0; k < texts.length; k++) {
    const p = params.encode(texts[k])
    parts[k] = p
    chars += texts[k].length
    if (isEval[firstDoc + k]) evalIds += p.length
    else {
      trainDocs++
      trainIds += p.length
    }
  }
  const train = {ids: new Int32Array(trainIds), lengths: new Int32Array(trainDocs)}
  const evalPart = {ids: new Int32Array(evalIds), lengths: new Int32Array(texts.length - trainDocs)}
  let t = 0
  let e = 0
  let td = 0
  let ed = 0
  for (let k = 0; k < texts.length; k++) {
    const p = parts[k]
    if (isEval[firstDoc + k]) {
      evalPart.ids.set(p, e)
      e += p.length
      evalPart.lengths[ed++] = p.length
    } else {
      train.ids.set(p, t)
      t += p.length
      train.lengths[td++] = p.length
    }
  }
  return {docs: texts.length, chars, train, eval: evalPart}
}
