/**
 * Wire types of Hugging Face `tokenizer.json` (tokenizers >= 0.13), the subset rtd reads and writes.
 * Kept apart from the public Tokenizer interface (STYLE 14).
 */
export type JsonComponent = {type: string; [key: string]: unknown}

export interface AddedTokenJson {
  id: number
  content: string
  single_word: boolean
  lstrip: boolean
  rstrip: boolean
  normalized: boolean
  special: boolean
}

export interface UnigramModelJson { type: 'Unigram'; unk_id: number | null; vocab: [string, number][]; byte_fallback?: boolean }
export interface WordPieceModelJson {
  type: 'WordPiece'; unk_token: string; continuing_subword_prefix: string; max_input_chars_per_word: number
  vocab: Record<string, number>
}
export interface BpeModelJson {
  type: 'BPE'; dropout: number | null; unk_token: string | null; continuing_subword_prefix: string | null
  end_of_word_suffix: string | null; fuse_unk: boolean; byte_fallback: boolean; ignore_merges?: boolean
  vocab: Record<string, number>; merges: (string | [string, string])[]
}
export type ModelJson = UnigramModelJson | WordPieceModelJson | BpeModelJson

export interface TokenizerJson {
  version: string
  truncation: unknown
  padding: unknown
  added_tokens: AddedTokenJson[]
  normalizer: JsonComponent | null
  pre_tokenizer: JsonComponent | null
  post_processor: JsonComponent | null
  decoder: JsonComponent | null
  model: ModelJson
}

export function addedToken(id: number, content: string, special = true): AddedTokenJson {
  return {id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special}
}
