/**
 * Pre-tokenizers of HF tokenizers as text -> words functions (no offsets: rtd only needs ids).
 */
import type {JsonComponent} from './tokenizer-json.js'
import {unsupportedComponent} from './unsupported-component.js'
import {BYTES_TO_UNICODE} from './byte-level.js'

/** `atStart`: the text begins at offset 0 of the input (Metaspace prepend_scheme "first" needs it). */
export type PreTokenize = (text: string, atStart?: boolean) => string[]

export const PRE_TOKENIZER_TYPES = [
  'Sequence', 'Metaspace', 'Whitespace', 'WhitespaceSplit', 'BertPreTokenizer', 'ByteLevel', 'Punctuation', 'Digits',
] as const

const PUNCT = '\\p{P}!-\\/:-@\\[-`{-~'
const BERT_SPLIT = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu')
const PUNCT_ISOLATED = new RegExp(`[^${PUNCT}]+|[${PUNCT}]`, 'gu')
const PUNCT_CONTIGUOUS = new RegExp(`[^${PUNCT}]+|[${PUNCT}]+`, 'gu')
const PUNCT_REMOVED = new RegExp(`[^${PUNCT}]+`, 'gu')
// Rust regex \w (Unicode)
const W = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}'
const WHITESPACE = new RegExp(`[${W}]+|[^${W}\\s]+`, 'gu')
const NON_WS = /\S+/gu
// GPT-2 pattern used by HF ByteLevel
const GPT2 = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

function matches(re: RegExp): PreTokenize {
  return (text) => text.match(re) ?? []
}

export function buildPreTokenizer(json: JsonComponent | null, source: string): PreTokenize | undefined {
  if (json === null || json === undefined) return undefined
  switch (json.type) {
    case 'Sequence': {
      const parts = (json.pretokenizers as JsonComponent[]).map((p) => buildPreTokenizer(p, source)).filter((p): p is PreTokenize => !!p)
      // Without offsets, "at offset 0" is approximated by "first word of a segment at offset 0".
      return (text, atStart = true) => {
        let words = [text]
        for (const p of parts) {
          const next: string[] = []
          words.forEach((w, i) => { for (const x of p(w, atStart && i === 0)) next.push(x) })
          words = next
        }
        return words
      }
    }
    case 'Metaspace': return metaspace(json)
    case 'Whitespace': return matches(WHITESPACE)
    case 'WhitespaceSplit': return matches(NON_WS)
    case 'BertPreTokenizer': return matches(BERT_SPLIT)
    case 'Punctuation': {
      const behavior = String(json.behavior ?? 'Isolated')
      if (behavior === 'Isolated') return matches(PUNCT_ISOLATED)
      if (behavior === 'Contiguous') return matches(PUNCT_CONTIGUOUS)
      if (behavior === 'Removed') return matches(PUNCT_REMOVED)
      throw unsupportedComponent({kind: 'Punctuation behavior', type: behavior, supported: ['Isolated', 'Contiguous', 'Removed'], source})
    }
    case 'Digits': {
      const re = json.individual_digits === true ? /\p{Nd}|[^\p{Nd}]+/gu : /\p{Nd}+|[^\p{Nd}]+/gu
      return matches(re)
    }
    case 'ByteLevel': {
      const addPrefixSpace = json.add_prefix_space !== false
      const useRegex = json.use_regex !== false
      return (text) => {
        if (addPrefixSpace && !text.startsWith(' ')) text = ' ' + text
        const words = useRegex ? text.match(GPT2) ?? [] : [text]
        return words.map(byteLevelEncode)
      }
    }
    default:
      throw unsupportedComponent({kind: 'pre_tokenizer', type: json.type, supported: PRE_TOKENIZER_TYPES, source})
  }
}

const encoder = new TextEncoder()

/** Maps the UTF-8 bytes of `word` to GPT-2's printable byte alphabet. */
export function byteLevelEncode(word: string): string {
  let ascii = true
  for (let i = 0; i < word.length; i++) if (word.charCodeAt(i) >= 0x80) { ascii = false; break }
  if (ascii) {
    let out = ''
    for (let i = 0; i < word.length; i++) out += BYTES_TO_UNICODE[word.charCodeAt(i)]
    return out
  }
  let out = ''
  for (const b of encoder.encode(word)) out += BYTES_TO_UNICODE[b]
  return out
}

/** HF Metaspace: spaces -> replacement, optional prefix, split with the replacement merged into the next word. */
function metaspace(json: JsonComponent): PreTokenize {
  const rep = String(json.replacement ?? '\u2581')
  // prepend_scheme (tokenizers >= 0.14) or the legacy add_prefix_space flag
  const scheme = String(json.prepend_scheme ?? (json.add_prefix_space === false ? 'never' : 'always'))
  const split = json.split !== false
  return (text, atStart = true) => {
    if (text.length === 0) return []
    text = text.replaceAll(' ', rep)
    const prepend = scheme === 'always' || (scheme === 'first' && atStart)
    if (prepend && !text.startsWith(rep)) text = rep + text
    if (!split) return [text]
    const words: string[] = []
    let start = 0
    let i = text.indexOf(rep, 1)
    while (i >= 0) {
      words.push(text.slice(start, i))
      start = i
      i = text.indexOf(rep, i + rep.length)
    }
    words.push(text.slice(start))
    return words
  }
}
