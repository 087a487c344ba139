/** Public surface of rtd's tokenizers. */
export {loadTokenizer} from './load-tokenizer.js'
export {trainTokenizer, TRAINABLE_KINDS, DEBERTA_SPECIAL_TOKENS, type TrainTokenizerParams, type TrainProgress} from './train-tokenizer.js'
export {TOKENIZER_KINDS, SPECIAL_TOKEN_ROLES, type Tokenizer, type TokenizerKind, type SpecialTokenIds} from './tokenizer.js'
