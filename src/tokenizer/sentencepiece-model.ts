/**
 * Minimal reader for SentencePiece's `ModelProto` (sentencepiece_model.proto), enough to convert a
 * DeBERTa-v3 `spm.model` into a Unigram tokenizer (SPEC B.5). Only the fields the conversion needs
 * are decoded; everything else is skipped by wire type.
 */
import {ConfigError} from '../errors.js'

/** sentencepiece_model.proto `SentencePiece.Type`. */
export const SPM_PIECE_TYPES = ['', 'normal', 'unknown', 'control', 'user_defined', 'unused', 'byte'] as const
/** sentencepiece_model.proto `TrainerSpec.ModelType` (1-based). */
export const SPM_MODEL_TYPES = ['', 'unigram', 'bpe', 'word', 'char'] as const

export interface SpmPiece { piece: string; score: number; type: number }

export interface SpmModel {
  pieces: SpmPiece[]
  trainer: {modelType: string; byteFallback: boolean; unkId: number; bosId: number; eosId: number; padId: number}
  normalizer: {name: string; precompiledCharsmap: Uint8Array; addDummyPrefix: boolean; removeExtraWhitespaces: boolean}
}

class ProtoReader {
  pos: number
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) { this.pos = start }

  varint(): number {
    let result = 0
    let mul = 1
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint')
      const b = this.buf[this.pos++]
      result += (b & 0x7f) * mul
      if ((b & 0x80) === 0) return result
      mul *= 128
    }
  }

  /** Returns [fieldNumber, wireType] or undefined at the end. */
  tag(): [number, number] | undefined {
    if (this.pos >= this.end) return undefined
    const t = this.varint()
    return [Math.floor(t / 8), t & 7]
  }

  bytes(): [number, number] {
    const len = this.varint()
    const start = this.pos
    this.pos += len
    if (this.pos > this.end) throw new Error('truncated length-delimited field')
    return [start, this.pos]
  }

  float32(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true)
    this.pos += 4
    return v
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.bytes()
    else if (wireType === 5) this.pos += 4
    else throw new Error(`unsupported wire type ${wireType}`)
  }
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Parses a serialized ModelProto (the bytes of `spm.model`). */
export function readSentencePieceModel(params: {bytes: Uint8Array; source?: string}): SpmModel {
  const {bytes, source = 'spm.model'} = params
  const model: SpmModel = {
    pieces: [],
    trainer: {modelType: 'unigram', byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1},
    normalizer: {name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true},
  }
  try {
    const r = new ProtoReader(bytes, 0, bytes.length)
    for (let t = r.tag(); t; t = r.tag()) {
      const [field, wire] = t
      if (field === 1 && wire === 2) model.pieces.push(readPiece(r, ...r.bytes()))
      else if (field === 2 && wire === 2) readTrainerSpec(r, ...r.bytes(), model.trainer)
      else if (field === 3 && wire === 2) readNormalizerSpec(r, ...r.bytes(), model.normalizer)
      else r.skip(wire)
    }
  } catch (error) {
    throw new ConfigError(`${source} is not a valid SentencePiece model: ${(error as Error).message}`, {
      code: 'tokenizer.spm_invalid', cause: error,
      suggestions: ['Pass the spm.model file of a SentencePiece/DeBERTa-v3 model, or a tokenizer.json.'],
    })
  }
  if (model.pieces.length === 0) {
    throw new ConfigError(`${source} holds no pieces; expected a SentencePiece ModelProto`, {code: 'tokenizer.spm_invalid'})
  }
  return model
}

function readPiece(parent: ProtoReader, start: number, end: number): SpmPiece {
  const r = new ProtoReader(parent.buf, start, end)
  const p: SpmPiece = {piece: '', score: 0, type: 1}
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t
    if (field === 1 && wire === 2) p.piece = utf8.decode(r.buf.subarray(...r.bytes()))
    else if (field === 2 && wire === 5) p.score = r.float32()
    else if (field === 3 && wire === 0) p.type = r.varint()
    else r.skip(wire)
  }
  return p
}

function readTrainerSpec(parent: ProtoReader, start: number, end: number, out: SpmModel['trainer']): void {
  const r = new ProtoReader(parent.buf, start, end)
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t
    if (wire !== 0) { r.skip(wire); continue }
    const v = r.varint()
    // int32 fields are varint-encoded as 64-bit two's complement when negative (pad_id = -1)
    const i32 = v >= 2 ** 31 ? v - 2 ** 64 : v
    if (field === 3) out.modelType = SPM_MODEL_TYPES[v] ?? `unknown(${v})`
    else if (field === 35) out.byteFallback = v !== 0
    else if (field === 40) out.unkId = i32
    else if (field === 41) out.bosId = i32
    else if (field === 42) out.eosId = i32
    else if (field === 43) out.padId = i32
  }
}

function readNormalizerSpec(parent: ProtoReader, start: number, end: number, out: SpmModel['normalizer']): void {
  const r = new ProtoReader(parent.buf, start, end)
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t
    if (field === 1 && wire === 2) out.name = utf8.decode(r.buf.subarray(...r.bytes()))
    else if (field === 2 && wire === 2) out.precompiledCharsmap = r.buf.slice(...r.bytes())
    else if (field === 3 && wire === 0) out.addDummyPrefix = r.varint() !== 0
    else if (field === 4 && wire === 0) out.removeExtraWhitespaces = r.varint() !== 0
    else r.skip(wire)
  }
}
