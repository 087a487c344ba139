/** Decoders of HF tokenizers: token strings -> token strings, joined at the end. */
import type {JsonComponent} from './tokenizer-json.js'
import {unsupportedComponent} from './unsupported-component.js'
import {UNICODE_TO_BYTES} from './byte-level.js'

export type Decode = (tokens: string[]) => string[]

export const DECODER_TYPES = ['Sequence', 'Metaspace', 'WordPiece', 'ByteLevel', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'BPEDecoder'] as const

const utf8 = new TextDecoder()

export function buildDecoder(json: JsonComponent | null, source: string): Decode | undefined {
  if (json === null || json === undefined) return undefined
  switch (json.type) {
    case 'Sequence': {
      const parts = (json.decoders as JsonComponent[]).map((d) => buildDecoder(d, source)).filter((d): d is Decode => !!d)
      return (tokens) => { for (const p of parts) tokens = p(tokens); return tokens }
    }
    case 'Metaspace': {
      const rep = String(json.replacement ?? '\u2581')
      const scheme = String(json.prepend_scheme ?? (json.add_prefix_space === false ? 'never' : 'always'))
      return (tokens) => tokens.map((t, i) => {
        const s = t.replaceAll(rep, ' ')
        return i === 0 && scheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s
      })
    }
    case 'WordPiece': {
      const prefix = String(json.prefix ?? '##')
      const cleanup = json.cleanup !== false
      return (tokens) => tokens.map((t, i) => {
        let s = i > 0 ? (t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t) : t
        if (cleanup) s = cleanupSpaces(s)
        return s
      })
    }
    case 'ByteLevel': return (tokens) => {
      const bytes: number[] = []
      for (const t of tokens) for (const c of t) bytes.push(UNICODE_TO_BYTES.get(c) ?? 0x3f)
      return [utf8.decode(Uint8Array.from(bytes))]
    }
    case 'Replace': {
      const pattern = json.pattern as {String?: string; Regex?: string}
      const content = String(json.content)
      const re = pattern.String !== undefined ? undefined : new RegExp(String(pattern.Regex), 'gu')
      return (tokens) => tokens.map((t) => (re ? t.replace(re, () => content) : t.split(pattern.String!).join(content)))
    }
    case 'ByteFallback': return byteFallback
    case 'Fuse': return (tokens) => [tokens.join('')]
    case 'Strip': {
      const content = String(json.content ?? ' ')
      const start = Number(json.start ?? 0)
      const stop = Number(json.stop ?? 0)
      return (tokens) => tokens.map((t) => {
        let a = 0
        while (a < start && t.startsWith(content, a)) a += content.length
        let b = t.length
        for (let k = 0; k < stop && b > a && t.endsWith(content, b); k++) b -= content.length
        return t.slice(a, b)
      })
    }
    case 'BPEDecoder': {
      const suffix = String(json.suffix ?? '</w>')
      return (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '))
    }
    default:
      throw unsupportedComponent({kind: 'decoder', type: json.type, supported: DECODER_TYPES, source})
  }
}

function cleanupSpaces(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" do not", " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re")
}

const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/

/** Runs of <0xXX> tokens become the UTF-8 text they encode (invalid bytes -> U+FFFD each). */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = []
  let pending: number[] = []
  const flush = () => {
    if (pending.length === 0) return
    try { out.push(new TextDecoder('utf-8', {fatal: true}).decode(Uint8Array.from(pending))) } catch { for (let i = 0; i < pending.length; i++) out.push('\ufffd') }
    pending = []
  }
  for (const t of tokens) {
    const m = BYTE_TOKEN.exec(t)
    if (m) pending.push(parseInt(m[1], 16))
    else { flush(); out.push(t) }
  }
  flush()
  return out
}
