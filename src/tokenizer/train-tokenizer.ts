/**
 * Trains a tokenizer from corpus text for from-scratch pipelines. DeBERTa special tokens come
 * first: [PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3, [MASK]=4 (SPEC A.10 ids for trained vocabularies).
 *
 * - wordpiece: BERT pipeline (BertNormalizer, BertPreTokenizer), vocab learned with BPE over
 *   "##"-continuation symbols, as HF's WordPieceTrainer does.
 * - bpe: RoBERTa-style byte-level BPE (all 256 byte symbols in the vocab, so no unknowns).
 * - unigram: SentencePiece-style EM + pruning (train-unigram.ts) with a DeBERTa-like pipeline
 *   (NFKC instead of the spm charsmap, Strip, collapse spaces, Metaspace).
 */
import {ConfigError} from '../errors.js'
import {BYTES_TO_UNICODE} from './byte-level.js'
import {templateProcessing} from './convert-sentencepiece.js'
import {buildNormalizer} from './normalizers.js'
import {buildPreTokenizer} from './pre-tokenizers.js'
import {PipelineTokenizer, type Tokenizer} from './tokenizer.js'
import {type JsonComponent, type TokenizerJson, addedToken} from './tokenizer-json.js'
import {trainBpe} from './train-bpe.js'
import {trainUnigram} from './train-unigram.js'

export const TRAINABLE_KINDS = ['unigram', 'wordpiece', 'bpe'] as const
export const DEBERTA_SPECIAL_TOKENS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'] as const

export interface TrainProgress {
  phase: 'count' | 'merge' | 'prune'; texts?: number; words?: number; merges?: number; vocab?: number; round?: number; pieces?: number; target?: number
}

export interface TrainTokenizerParams {
  texts: Iterable<string> | AsyncIterable<string>
  type: 'unigram' | 'wordpiece' | 'bpe'
  /** Exact number of ids (specials included) unless the corpus runs out of pairs to merge. */
  vocabSize: number
  /** Minimum pair frequency for a merge. Default 2. */
  minFrequency?: number
  /** Lowercase (and, for wordpiece, strip accents) before tokenizing. Default false. */
  lowercase?: boolean
  onProgress?: (p: TrainProgress) => void
}

export async function trainTokenizer(params: TrainTokenizerParams): Promise<Tokenizer> {
  const {type, vocabSize, lowercase = false, onProgress} = params
  if (!(TRAINABLE_KINDS as readonly string[]).includes(type)) {
    throw new ConfigError(`cannot train a "${type}" tokenizer; trainable types are ${TRAINABLE_KINDS.join(', ')}`, {
      code: 'tokenizer.train_options',
    })
  }
  const minAlphabet = type === 'bpe' ? 256 : 1
  if (!Number.isInteger(vocabSize) || vocabSize < DEBERTA_SPECIAL_TOKENS.length + minAlphabet) {
    throw new ConfigError(`vocab size ${vocabSize} is too small for a ${type} tokenizer; it needs at least ${DEBERTA_SPECIAL_TOKENS.length + minAlphabet}`, {
      code: 'tokenizer.train_options',
    })
  }
  const metaspace = {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true}
  const byteLevel = {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true}
  const normalizer: JsonComponent | null = type === 'wordpiece'
    ? {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase}
    : type === 'unigram'
      ? {type: 'Sequence', normalizers: [
          ...(lowercase ? [{type: 'Lowercase'}] : []), {type: 'NFKC'}, {type: 'Strip', strip_left: true, strip_right: true},
          {type: 'Replace', pattern: {Regex: ' {2,}'}, content: ' '},
        ]}
      : lowercase ? {type: 'Lowercase'} : null
  const preTokenizer: JsonComponent = type === 'wordpiece' ? {type: 'BertPreTokenizer'} : type === 'unigram' ? metaspace : byteLevel
  const normalize = buildNormalizer(normalizer, 'trainer')
  const preTokenize = buildPreTokenizer(preTokenizer, 'trainer')!

  // one Map lookup per word (its index), the counts in an array: a get and a set per word
  // cost twice as much, and this loop is most of a small tokenizer's training time
  const wordIndex = new Map<string, number>()
  const counts: number[] = []
  let texts = 0
  for await (const text of params.texts) {
    const n = normalize ? normalize(text) : text
    for (const w of preTokenize(n)) {
      const i = wordIndex.get(w)
      if (i === undefined) { wordIndex.set(w, counts.length); counts.push(1) } else counts[i]++
    }
    if (++texts % 10000 === 0) onProgress?.({phase: 'count', texts, words: wordIndex.size})
  }
  onProgress?.({phase: 'count', texts, words: wordIndex.size})
  // first-seen order, as before
  const words = new Map<string, number>()
  for (const [w, i] of wordIndex) words.set(w, counts[i])

  const specials = [...DEBERTA_SPECIAL_TOKENS]
  const added = specials.map((t, i) => addedToken(i, t))
  const post = templateProcessing({cls: '[CLS]', clsId: 1, sep: '[SEP]', sepId: 2})
  const special = {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4}
  if (type === 'unigram') {
    const pieces = trainUnigram({words, pieceCount: vocabSize - specials.length, onProgress: (p) => onProgress?.({phase: 'prune', ...p})})
    const json: TokenizerJson = {
      version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer, pre_tokenizer: preTokenizer, post_processor: post,
      decoder: metaspace, model: {type: 'Unigram', unk_id: special.unk, vocab: [...specials.map((t): [string, number] => [t, 0]), ...pieces], byte_fallback: false},
    }
    return new PipelineTokenizer(json, {source: 'trained unigram tokenizer', special, configExtras: {do_lower_case: lowercase}})
  }
  const prefix = type === 'wordpiece' ? '##' : undefined
  const result = trainBpe({
    words, vocabSize, minFrequency: params.minFrequency, specialTokens: specials,
    initialAlphabet: type === 'bpe' ? [...BYTES_TO_UNICODE] : [], continuingSubwordPrefix: prefix,
    onProgress: (p) => onProgress?.({phase: 'merge', ...p}),
  })
  const vocab = Object.fromEntries(result.vocab.map((t, i) => [t, i]))
  const json: TokenizerJson = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: added, normalizer, pre_tokenizer: preTokenizer, post_processor: post,
    decoder: type === 'wordpiece' ? {type: 'WordPiece', prefix: '##', cleanup: true} : byteLevel,
    model: type === 'wordpiece'
      ? {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab}
      : {
          type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: null, end_of_word_suffix: null,
          fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: result.merges,
        },
  }
  return new PipelineTokenizer(json, {
    source: `trained ${type} tokenizer`, special, configExtras: {do_lower_case: lowercase},
  })
}
