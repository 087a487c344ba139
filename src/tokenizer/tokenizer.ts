/**
 * The public Tokenizer interface and its one implementation: an HF-tokenizers pipeline
 * (added tokens -> normalizer -> pre-tokenizer -> model; decoder for decode) built from a
 * tokenizer.json object. Everything rtd loads, converts or trains ends up as a TokenizerJson,
 * so save() writes exactly what was used.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {ConfigError, RuntimeFailure} from '../errors.js'
import {BpeModel} from './bpe-model.js'
import {type Decode, buildDecoder} from './decoders.js'
import {IdBuffer} from './id-buffer.js'
import {type Normalize, buildNormalizer} from './normalizers.js'
import {type PreTokenize, buildPreTokenizer} from './pre-tokenizers.js'
import type {TokenModel} from './token-model.js'
import type {AddedTokenJson, JsonComponent, ModelJson, TokenizerJson} from './tokenizer-json.js'
import {UnigramModel} from './unigram-model.js'
import {unsupportedComponent} from './unsupported-component.js'
import {WordPieceModel} from './wordpiece-model.js'

export const TOKENIZER_KINDS = ['unigram', 'wordpiece', 'bpe'] as const
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number]

export interface SpecialTokenIds { pad: number; cls: number; sep: number; unk: number; mask: number }
export const SPECIAL_TOKEN_ROLES = ['pad', 'cls', 'sep', 'unk', 'mask'] as const

export interface Tokenizer {
  readonly kind: TokenizerKind
  /** Number of ids the tokenizer can emit (len(tokenizer) in transformers, added tokens included). */
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  /** Ids WITHOUT [CLS]/[SEP]. */
  encode(text: string): Int32Array
  decode(ids: ArrayLike<number>, opts?: {skipSpecial?: boolean}): string
  idToToken(id: number): string | undefined
  /** Stable content hash (model + normalizer + pre-tokenizer + added/special tokens) for data-cache keys. */
  fingerprint(): string
  /** Writes tokenizer.json (HF tokenizers format), tokenizer_config.json and special_tokens_map.json into `dir`. */
  save(dir: string): void
}

export const POST_PROCESSOR_TYPES = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'] as const

/** Extra tokenizer_config.json fields to write on save (e.g. DeBERTa's do_lower_case / split_by_punct). */
export type TokenizerConfigExtras = Record<string, unknown>

export class PipelineTokenizer implements Tokenizer {
  readonly kind: TokenizerKind
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  private readonly model: TokenModel
  private readonly normalize: Normalize | undefined
  private readonly preTokenize: PreTokenize | undefined
  private readonly decoder: Decode | undefined
  private readonly added: AddedTokenJson[]
  private readonly addedById = new Map<number, AddedTokenJson>()
  private readonly addedByContent = new Map<string, number>()
  private readonly addedSplit: RegExp | undefined
  private readonly buffer = new IdBuffer()
  private fingerprintCache: string | undefined

  constructor(readonly json: TokenizerJson, params: {source: string; special: SpecialTokenIds; configExtras?: TokenizerConfigExtras}) {
    const {source} = params
    this.model = buildModel(json.model, source)
    this.kind = this.model.kind
    this.normalize = buildNormalizer(json.normalizer, source)
    this.preTokenize = buildPreTokenizer(json.pre_tokenizer, source)
    this.decoder = buildDecoder(json.decoder, source)
    checkPostProcessor(json.post_processor, source)
    this.added = json.added_tokens ?? []
    let size = this.model.idToToken.length
    for (const t of this.added) {
      this.addedById.set(t.id, t)
      this.addedByContent.set(t.content, t.id)
      size = Math.max(size, t.id + 1)
    }
    this.vocabSize = size
    if (this.added.length > 0) {
      const alternatives = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp)
      this.addedSplit = new RegExp(alternatives.join('|'), 'gu')
    }
    this.special = params.special
    for (const role of SPECIAL_TOKEN_ROLES) {
      const id = this.special[role]
      if (!(Number.isInteger(id) && id >= 0 && id < size)) {
        throw new ConfigError(`${source}: special token ${role} has id ${id}, outside the tokenizer's 0..${size - 1}`, {code: 'tokenizer.special_ids'})
      }
    }
    this.configExtras = params.configExtras ?? {}
  }

  private readonly configExtras: TokenizerConfigExtras

  encode(text: string): Int32Array {
    const out = this.buffer
    out.length = 0
    if (this.addedSplit) {
      this.addedSplit.lastIndex = 0
      let last = 0
      for (let m = this.addedSplit.exec(text); m; m = this.addedSplit.exec(text)) {
        this.encodeSegment(text.slice(last, m.index), last === 0, out)
        out.push(this.addedByContent.get(m[0])!)
        last = m.index + m[0].length
      }
      this.encodeSegment(last === 0 ? text : text.slice(last), last === 0, out)
    } else this.encodeSegment(text, true, out)
    return out.take()
  }

  private encodeSegment(text: string, atStart: boolean, out: IdBuffer): void {
    if (text.length === 0) return
    const normalized = this.normalize ? this.normalize(text) : text
    if (normalized.length === 0) return
    if (!this.preTokenize) { this.model.encodeWord(normalized, out); return }
    for (const word of this.preTokenize(normalized, atStart)) if (word.length > 0) this.model.encodeWord(word, out)
  }

  decode(ids: ArrayLike<number>, opts: {skipSpecial?: boolean} = {}): string {
    const tokens: string[] = []
    for (let i = 0; i < ids.length; i++) {
      const added = this.addedById.get(ids[i])
      if (added) { if (!(opts.skipSpecial && added.special)) tokens.push(added.content); continue }
      const t = this.model.idToToken[ids[i]]
      if (t !== undefined) tokens.push(t) // like HF, ids outside the vocab are dropped
    }
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ')
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id]
  }

  /** Id of a token string (added tokens first, then the model vocab). */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.tokenToId(token)
  }

  fingerprint(): string {
    if (this.fingerprintCache === undefined) {
      const h = crypto.createHash('sha256')
      h.update(JSON.stringify({
        model: this.model.toJSON(), normalizer: this.json.normalizer, pre_tokenizer: this.json.pre_tokenizer,
        added_tokens: this.added, special: this.special,
      }))
      this.fingerprintCache = h.digest('hex')
    }
    return this.fingerprintCache
  }

  toJSON(): TokenizerJson {
    return {...this.json, model: this.model.toJSON()}
  }

  save(dir: string): void {
    try {
      fs.mkdirSync(dir, {recursive: true})
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(this.toJSON(), null, 2))
      const names: Record<string, string> = {}
      for (const role of SPECIAL_TOKEN_ROLES) names[`${role}_token`] = this.idToToken(this.special[role])!
      const map = {bos_token: names.cls_token, eos_token: names.sep_token, ...names}
      fs.writeFileSync(path.join(dir, 'special_tokens_map.json'), JSON.stringify(map, null, 2))
      const config = {
        ...map, ...this.configExtras, clean_up_tokenization_spaces: false, tokenizer_class: 'PreTrainedTokenizerFast',
        model_max_length: 512,
      }
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2))
    } catch (error) {
      throw new RuntimeFailure(`could not write the tokenizer to ${dir}: ${(error as Error).message}`, {code: 'tokenizer.save_failed', cause: error})
    }
  }
}

function buildModel(json: ModelJson, source: string): TokenModel {
  switch (json?.type) {
    case 'Unigram': return new UnigramModel({vocab: json.vocab, unkId: json.unk_id, byteFallback: json.byte_fallback})
    case 'WordPiece': return new WordPieceModel({
      vocab: json.vocab, unkToken: json.unk_token, prefix: json.continuing_subword_prefix, maxInputCharsPerWord: json.max_input_chars_per_word,
    })
    case 'BPE': {
      if (json.dropout !== null && json.dropout !== undefined && json.dropout !== 0) {
        throw unsupportedComponent({kind: 'BPE option', type: `dropout=${json.dropout}`, supported: ['dropout=null'], source})
      }
      const merges = json.merges.map((m) => (typeof m === 'string' ? splitMerge(m) : m))
      return new BpeModel({
        vocab: json.vocab, merges, unkToken: json.unk_token, continuingSubwordPrefix: json.continuing_subword_prefix,
        endOfWordSuffix: json.end_of_word_suffix, fuseUnk: json.fuse_unk, byteFallback: json.byte_fallback,
      })
    }
    default:
      throw unsupportedComponent({kind: 'model', type: (json as {type?: unknown})?.type, supported: ['Unigram', 'WordPiece', 'BPE'], source})
  }
}

function splitMerge(m: string): [string, string] {
  const i = m.indexOf(' ', 1)
  return [m.slice(0, i), m.slice(i + 1)]
}

function checkPostProcessor(json: JsonComponent | null, source: string): void {
  if (json === null || json === undefined) return
  if (!(POST_PROCESSOR_TYPES as readonly string[]).includes(json.type)) {
    throw unsupportedComponent({kind: 'post_processor', type: json.type, supported: POST_PROCESSOR_TYPES, source})
  }
  if (json.type === 'Sequence') for (const p of json.processors as JsonComponent[]) checkPostProcessor(p, source)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
