/**
 * Loads a tokenizer from a model folder or file: tokenizer.json when present, otherwise a
 * SentencePiece spm.model converted as HF's DebertaV2Converter does (SPEC B.5).
 */
import fs from 'node:fs'
import path from 'node:path'
import {ConfigError} from '../errors.js'
import {convertSentencePiece} from './convert-sentencepiece.js'
import {readSentencePieceModel} from './sentencepiece-model.js'
import {PipelineTokenizer, SPECIAL_TOKEN_ROLES, type SpecialTokenIds, type Tokenizer} from './tokenizer.js'
import type {TokenizerJson} from './tokenizer-json.js'

/** Fallback names per role when no special_tokens_map.json / tokenizer_config.json names them. */
const DEFAULT_NAMES: Record<keyof SpecialTokenIds, string[]> = {
  pad: ['[PAD]', '<pad>'], cls: ['[CLS]', '<s>'], sep: ['[SEP]', '</s>'], unk: ['[UNK]', '<unk>'], mask: ['[MASK]', '<mask>'],
}

export function loadTokenizer(params: {path: string}): Tokenizer {
  const target = path.resolve(params.path)
  if (!fs.existsSync(target)) {
    throw new ConfigError(`tokenizer path ${params.path} does not exist`, {
      code: 'tokenizer.not_found', suggestions: ['Give a folder with tokenizer.json or spm.model, or the path of one of those files.'],
    })
  }
  const isDir = fs.statSync(target).isDirectory()
  const dir = isDir ? target : path.dirname(target)
  let file = target
  if (isDir) {
    const candidates = ['tokenizer.json', 'spm.model'].map((f) => path.join(target, f))
    const found = candidates.find((f) => fs.existsSync(f))
    if (!found) {
      throw new ConfigError(`no tokenizer in ${params.path}: expected tokenizer.json or spm.model there`, {
        code: 'tokenizer.not_found', suggestions: ['Save a tokenizer there (rtd writes tokenizer.json) or copy the model\'s spm.model.'],
      })
    }
    file = found
  }
  const config = readJsonIfExists(path.join(dir, 'tokenizer_config.json'))
  if (file.endsWith('.model')) {
    const model = readSentencePieceModel({bytes: fs.readFileSync(file), source: file})
    const converted = convertSentencePiece({
      model, source: file, doLowerCase: config?.do_lower_case === true, splitByPunct: config?.split_by_punct === true,
      addedTokens: readJsonIfExists(path.join(dir, 'added_tokens.json')) as Record<string, number> | undefined,
    })
    return new PipelineTokenizer(converted.json, {source: file, special: converted.special, configExtras: converted.configExtras})
  }
  const json = readJsonIfExists(file) as TokenizerJson | undefined
  if (!json || typeof json !== 'object' || !('model' in json)) {
    throw new ConfigError(`${file} is not a tokenizer.json: it has no "model" field`, {code: 'tokenizer.invalid_json'})
  }
  const map = readJsonIfExists(path.join(dir, 'special_tokens_map.json'))
  const special = resolveSpecials({json, source: file, names: [map, config]})
  const extras: Record<string, unknown> = {}
  for (const key of ['do_lower_case', 'split_by_punct']) if (config && key in config) extras[key] = config[key]
  return new PipelineTokenizer(json, {source: file, special, configExtras: extras})
}

function readJsonIfExists(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, {code: 'tokenizer.invalid_json', cause: error})
  }
}

function resolveSpecials(p: {json: TokenizerJson; source: string; names: (Record<string, unknown> | undefined)[]}): SpecialTokenIds {
  const lookup = tokenLookup(p.json)
  const out: Partial<SpecialTokenIds> = {}
  const missing: string[] = []
  for (const role of SPECIAL_TOKEN_ROLES) {
    const configured = p.names.map((n) => tokenName(n?.[`${role}_token`])).filter((n): n is string => !!n)
    const names = [...configured, ...DEFAULT_NAMES[role]]
    const id = names.map(lookup).find((x) => x !== undefined)
    if (id === undefined) missing.push(`${role} (tried ${names.join(', ')})`)
    else out[role] = id
  }
  if (missing.length > 0) {
    throw new ConfigError(`${p.source}: special tokens not found in the vocabulary: ${missing.join('; ')}`, {
      code: 'tokenizer.special_ids', suggestions: ['Name them in special_tokens_map.json (e.g. "mask_token": "[MASK]") or add them as added_tokens.'],
    })
  }
  return out as SpecialTokenIds
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (v && typeof v === 'object' && typeof (v as {content?: unknown}).content === 'string') return (v as {content: string}).content
  return undefined
}

function tokenLookup(json: TokenizerJson): (token: string) => number | undefined {
  const added = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id]))
  const model = json.model
  let vocab: Map<string, number>
  if (model.type === 'Unigram') vocab = new Map(model.vocab.map(([p], i) => [p, i]))
  else vocab = new Map(Object.entries(model.vocab ?? {}))
  return (t) => added.get(t) ?? vocab.get(t)
}
