/**
 * Normalizers of HF tokenizers (`normalizers` field of tokenizer.json) as plain string -> string
 * functions; rtd needs ids, not offsets, so no alignment tracking.
 */
import type {JsonComponent} from './tokenizer-json.js'
import {PrecompiledCharsmap} from './precompiled-charsmap.js'
import {unsupportedComponent} from './unsupported-component.js'

export type Normalize = (text: string) => string

export const NORMALIZER_TYPES = [
  'Sequence', 'Lowercase', 'Strip', 'StripAccents', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Replace', 'Precompiled', 'Prepend',
  'BertNormalizer',
] as const

/** Rust char::is_whitespace (Unicode White_Space), which HF's Strip uses. */
export function isWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0x85) return false
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000
}
const COMBINING_MARK = /\p{Mn}/gu

export function buildNormalizer(json: JsonComponent | null, source: string): Normalize | undefined {
  if (json === null || json === undefined) return undefined
  switch (json.type) {
    case 'Sequence': {
      const parts = (json.normalizers as JsonComponent[]).map((n) => buildNormalizer(n, source)).filter((n): n is Normalize => !!n)
      return (text) => { for (const p of parts) text = p(text); return text }
    }
    case 'Lowercase': return (text) => text.toLowerCase()
    case 'Strip': {
      const left = json.strip_left !== false
      const right = json.strip_right !== false
      // a loop, not /\s+$/: a trailing-anchor regex rescans from every position
      return (text) => {
        let a = 0
        let b = text.length
        if (left) while (a < b && isWhitespace(text.charCodeAt(a))) a++
        if (right) while (b > a && isWhitespace(text.charCodeAt(b - 1))) b--
        return a === 0 && b === text.length ? text : text.slice(a, b)
      }
    }
    case 'StripAccents': return (text) => text.replace(COMBINING_MARK, '')
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': {
      const form = json.type
      return (text) => text.normalize(form)
    }
    case 'Prepend': {
      const prepend = String(json.prepend)
      return (text) => (text.length > 0 ? prepend + text : text)
    }
    case 'Replace': {
      const pattern = json.pattern as {String?: string; Regex?: string}
      const content = String(json.content)
      if (pattern.String !== undefined) {
        const needle = pattern.String
        return (text) => text.split(needle).join(content)
      }
      const re = new RegExp(String(pattern.Regex), 'gu')
      return (text) => text.replace(re, () => content)
    }
    case 'Precompiled': {
      const b64 = json.precompiled_charsmap as string | null
      if (!b64) return undefined
      const map = new PrecompiledCharsmap(Buffer.from(b64, 'base64'))
      return (text) => map.normalize(text)
    }
    case 'BertNormalizer': return bertNormalizer(json)
    default:
      throw unsupportedComponent({kind: 'normalizer', type: json.type, supported: NORMALIZER_TYPES, source})
  }
}

/** HF BertNormalizer: clean control chars, pad CJK chars with spaces, optional accent strip + lowercase. */
function bertNormalizer(json: JsonComponent): Normalize {
  const cleanText = json.clean_text !== false
  const chinese = json.handle_chinese_chars !== false
  const lowercase = json.lowercase !== false
  // strip_accents: null means "follow lowercase"
  const stripAccents = json.strip_accents === null || json.strip_accents === undefined ? lowercase : json.strip_accents === true
  const control = /[\u0000\ufffd]|[\p{Cc}\p{Cf}]/gu
  // HF maps \t, \n, \r and every other whitespace char to ' ': the space itself needs no
  // replacing, and text with no other whitespace comes back as it is (no new string per document)
  const whitespace = /[^\S ]/gu
  const cjk = /([\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}])/gu
  return (text) => {
    if (cleanText) {
      text = text.replace(control, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : '')).replace(whitespace, ' ')
    }
    if (chinese) text = text.replace(cjk, ' $1 ')
    if (stripAccents) text = text.normalize('NFD').replace(COMBINING_MARK, '')
    if (lowercase) text = text.toLowerCase()
    return text
  }
}
