/**
 * spm.model -> tokenizer.json, as Hugging Face's DebertaV2Converter does (SPEC B.5):
 * normalizer [Lowercase if do_lower_case] -> Strip -> Precompiled(charsmap) -> Replace(/ {2,}/, " "),
 * pre-tokenizer [Punctuation if split_by_punct] -> Metaspace("▁", prepend always), Unigram model
 * with the pieces' scores, [MASK] appended as the first added token (id = piece count).
 */
import {ConfigError} from '../errors.js'
import type {SpmModel} from './sentencepiece-model.js'
import type {SpecialTokenIds, TokenizerConfigExtras} from './tokenizer.js'
import {type AddedTokenJson, type JsonComponent, type TokenizerJson, addedToken} from './tokenizer-json.js'

export interface ConvertedSentencePiece { json: TokenizerJson; special: SpecialTokenIds; configExtras: TokenizerConfigExtras }

export function convertSentencePiece(params: {
  model: SpmModel; doLowerCase?: boolean; splitByPunct?: boolean; source: string
  /** added_tokens.json ({token: id}); default {"[MASK]": piece count}. */
  addedTokens?: Record<string, number>
}): ConvertedSentencePiece {
  const {model, source, doLowerCase = false, splitByPunct = false} = params
  const extra = params.addedTokens ?? {'[MASK]': model.pieces.length}
  if (!('[MASK]' in extra)) extra['[MASK]'] = Math.max(model.pieces.length, ...Object.values(extra).map((id) => id + 1))
  const extraSorted = Object.entries(extra).sort((a, b) => a[1] - b[1])
  extraSorted.forEach(([token, id], i) => {
    if (id !== model.pieces.length + i) {
      throw new ConfigError(`${source}: added token ${token} has id ${id}; added tokens must continue the ${model.pieces.length} pieces without gaps`, {code: 'tokenizer.special_ids'})
    }
  })
  if (model.trainer.modelType !== 'unigram') {
    throw new ConfigError(`${source}: SentencePiece model_type "${model.trainer.modelType}" is not supported; rtd converts unigram models (DeBERTa-v3)`, {
      code: 'tokenizer.unsupported_component', suggestions: ['Provide a tokenizer.json for this model instead.'],
    })
  }
  const pieceIndex = new Map<string, number>()
  model.pieces.forEach((p, i) => { if (!pieceIndex.has(p.piece)) pieceIndex.set(p.piece, i) })
  const byName = (name: string, fallback: number): number => pieceIndex.get(name) ?? fallback
  const special: SpecialTokenIds = {
    pad: byName('[PAD]', model.trainer.padId),
    cls: byName('[CLS]', model.trainer.bosId),
    sep: byName('[SEP]', model.trainer.eosId),
    unk: byName('[UNK]', model.trainer.unkId),
    mask: extra['[MASK]'],
  }
  for (const [role, id] of Object.entries(special)) {
    if (id < 0) throw new ConfigError(`${source}: no ${role} token (no [${role.toUpperCase()}] piece and the trainer spec has id ${id})`, {code: 'tokenizer.special_ids'})
  }
  const added: AddedTokenJson[] = []
  for (const role of ['pad', 'cls', 'sep', 'unk'] as const) {
    if (!added.some((t) => t.id === special[role])) added.push(addedToken(special[role], model.pieces[special[role]].piece))
  }
  added.sort((a, b) => a.id - b.id)
  // as in transformers, added_tokens.json entries other than [MASK] are plain (non-special) added tokens
  for (const [token, id] of extraSorted) added.push(addedToken(id, token, token === '[MASK]'))

  const normalizers: JsonComponent[] = []
  if (doLowerCase) normalizers.push({type: 'Lowercase'})
  normalizers.push({type: 'Strip', strip_left: true, strip_right: true})
  const charsmap = model.normalizer.precompiledCharsmap
  if (charsmap.length > 0) normalizers.push({type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64')})
  normalizers.push({type: 'Replace', pattern: {Regex: ' {2,}'}, content: ' '})
  const metaspace = {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true}
  const preTokenizers: JsonComponent[] = []
  if (splitByPunct) preTokenizers.push({type: 'Punctuation', behavior: 'Isolated'})
  preTokenizers.push(metaspace)

  const cls = model.pieces[special.cls].piece
  const sep = model.pieces[special.sep].piece
  const json: TokenizerJson = {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: {type: 'Sequence', normalizers},
    pre_tokenizer: {type: 'Sequence', pretokenizers: preTokenizers},
    post_processor: templateProcessing({cls, clsId: special.cls, sep, sepId: special.sep}),
    decoder: metaspace,
    model: {
      type: 'Unigram', unk_id: model.trainer.unkId, vocab: model.pieces.map((p) => [p.piece, p.score]),
      byte_fallback: model.trainer.byteFallback,
    },
  }
  return {json, special, configExtras: {do_lower_case: doLowerCase, split_by_punct: splitByPunct}}
}

/** `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B [SEP]` with type ids 0/1, as the DeBERTa and BERT converters write it. */
export function templateProcessing(p: {cls: string; clsId: number; sep: string; sepId: number}): JsonComponent {
  const special = (id: string, typeId: number) => ({SpecialToken: {id, type_id: typeId}})
  const seq = (id: string, typeId: number) => ({Sequence: {id, type_id: typeId}})
  return {
    type: 'TemplateProcessing',
    single: [special(p.cls, 0), seq('A', 0), special(p.sep, 0)],
    pair: [special(p.cls, 0), seq('A', 0), special(p.sep, 0), seq('B', 1), special(p.sep, 1)],
    special_tokens: {
      [p.cls]: {id: p.cls, ids: [p.clsId], tokens: [p.cls]},
      [p.sep]: {id: p.sep, ids: [p.sepId], tokens: [p.sep]},
    },
  }
}
