/**
 * SentencePiece's precompiled normalization map ("precompiled_charsmap"): a darts-clone
 * double-array trie over UTF-8 byte strings whose leaf values index a blob of NUL-terminated
 * replacement strings. Blob layout: u32 LE trie size in bytes, the trie units, the strings.
 *
 * Ported from sentencepiece normalizer.cc (Normalizer::NormalizePrefix) and the spm_precompiled
 * crate used by HF tokenizers. We follow SentencePiece: at each position take the LONGEST
 * prefix match; with no match copy one character. HF's `Precompiled` instead tries whole
 * grapheme clusters first; the two agree except on rare multi-codepoint clusters.
 */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array
  private readonly normalized: Uint8Array
  private readonly replacementCache = new Map<number, string>()
  private readonly decoder = new TextDecoder()
  /** For each first UTF-8 byte: whether any key starts with it (fast path for plain ASCII). */
  private readonly firstByteStarts = new Uint8Array(256)

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 4) throw new Error(`precompiled charsmap too short (${bytes.length} bytes)`)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const trieSize = view.getUint32(0, true)
    if (trieSize % 4 !== 0 || 4 + trieSize > bytes.length) throw new Error(`precompiled charsmap trie size ${trieSize} invalid`)
    this.units = new Uint32Array(trieSize / 4)
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true)
    this.normalized = bytes.subarray(4 + trieSize)
    const root = offset(this.units[0])
    for (let b = 1; b < 256; b++) {
      const pos = root ^ b
      if (pos < this.units.length && label(this.units[pos]) === b) this.firstByteStarts[b] = 1
    }
  }

  /** Normalizes `text`; returns the same string object when nothing changes. */
  normalize(text: string): string {
    const units = this.units
    const n = text.length
    let out: string[] | undefined
    let copiedUpTo = 0
    let i = 0
    while (i < n) {
      let cp = text.charCodeAt(i)
      // ASCII fast path: no key starts with this byte
      if (cp < 0x80 && this.firstByteStarts[cp] === 0) { i++; continue }
      // Walk the trie over UTF-8 bytes of successive code points; remember the longest leaf.
      let nodePos = offset(units[0])
      let j = i
      let bestEnd = -1
      let bestValue = 0
      walk: while (j < n) {
        cp = text.codePointAt(j)!
        const cpLen = cp > 0xffff ? 2 : 1
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd // lone surrogate: encode as U+FFFD
        let nb: number
        let b0: number, b1 = 0, b2 = 0, b3 = 0
        if (cp < 0x80) { nb = 1; b0 = cp } else if (cp < 0x800) { nb = 2; b0 = 0xc0 | (cp >> 6); b1 = 0x80 | (cp & 63) } else if (cp < 0x10000) {
          nb = 3; b0 = 0xe0 | (cp >> 12); b1 = 0x80 | ((cp >> 6) & 63); b2 = 0x80 | (cp & 63)
        } else { nb = 4; b0 = 0xf0 | (cp >> 18); b1 = 0x80 | ((cp >> 12) & 63); b2 = 0x80 | ((cp >> 6) & 63); b3 = 0x80 | (cp & 63) }
        if (cp === 0) break
        for (let k = 0; k < nb; k++) {
          const c = k === 0 ? b0 : k === 1 ? b1 : k === 2 ? b2 : b3
          nodePos ^= c
          if (nodePos >= units.length) break walk
          const unit = units[nodePos]
          if (label(unit) !== c) break walk
          nodePos ^= offset(unit)
          // a leaf can only complete at a character boundary (keys are whole UTF-8 strings)
          if (hasLeaf(unit)) { bestEnd = j + cpLen; bestValue = units[nodePos] & 0x7fffffff }
        }
        j += cpLen
      }
      if (bestEnd < 0) { i += text.codePointAt(i)! > 0xffff ? 2 : 1; continue }
      out ??= []
      out.push(text.slice(copiedUpTo, i), this.replacement(bestValue))
      i = bestEnd
      copiedUpTo = i
    }
    if (!out) return text
    out.push(text.slice(copiedUpTo))
    return out.join('')
  }

  private replacement(index: number): string {
    let s = this.replacementCache.get(index)
    if (s === undefined) {
      let end = index
      while (end < this.normalized.length && this.normalized[end] !== 0) end++
      s = this.decoder.decode(this.normalized.subarray(index, end))
      this.replacementCache.set(index, s)
    }
    return s
  }
}

// darts-clone unit layout (see spm_precompiled / darts.h)
function hasLeaf(unit: number): boolean { return ((unit >>> 8) & 1) === 1 }
function label(unit: number): number { return (unit & 0x800000ff) >>> 0 }
function offset(unit: number): number { return (unit >>> 10) << ((unit & 512) >>> 6) }
