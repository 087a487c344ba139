/**
 * Hugging Face folders of ELECTRA models: config.json (`model_type: electra`, `architectures`
 * [ElectraForPreTraining] or [ElectraForMaskedLM]) + model.safetensors with HF names. An exported
 * pair is the discriminator at `dir` and the generator at `dir/generator`, as for DeBERTa
 * (src/pretrain/export-models.ts). Writing is atomic (checkpoint/model-folder.ts).
 */
import {join} from 'node:path'
import {loadModelFolder, writeModelFolder} from '../../checkpoint/model-folder.js'
import type {HostTensor} from '../../checkpoint/safetensors.js'
import {ConfigError} from '../../errors.js'
import type {HostTensorLike} from '../hf-tensors.js'
import {ELECTRA_ARCHITECTURES, parseElectraConfig, toElectraHfConfig, type ElectraConfig} from './config.js'
import type {RtdPair} from '../rtd-pair.js'

export type ElectraRole = keyof typeof ELECTRA_ARCHITECTURES

/** Writes one ELECTRA model folder (config.json + model.safetensors + extraFiles, e.g. the tokenizer). */
export function writeElectraFolder(opts: {
  dir: string
  config: ElectraConfig
  role: ElectraRole
  tensors: Map<string, HostTensorLike>
  extraFiles?: Record<string, string | Uint8Array>
}): {dir: string; files: string[]} {
  return writeModelFolder({
    dir: opts.dir,
    config: toElectraHfConfig(opts.config, {role: opts.role}),
    tensors: opts.tensors as Map<string, {shape: number[]; data: Float32Array}>,
    extraFiles: opts.extraFiles,
  })
}

/**
 * Reads an ELECTRA model folder: its config (which must say `model_type: electra`), its tensors and
 * the role its `architectures` names (undefined when it names neither HF class).
 */
export function readElectraFolder(opts: {dir: string}): {config: ElectraConfig; tensors: Map<string, HostTensor>; role?: ElectraRole} {
  const folder = loadModelFolder({dir: opts.dir})
  const where = join(opts.dir, 'config.json')
  if (folder.config.model_type !== 'electra') {
    throw new ConfigError(`${where}: model_type ${JSON.stringify(folder.config.model_type)} is not "electra"`, {code: 'model.config_invalid'})
  }
  const config = parseElectraConfig({json: folder.config, where})
  const archs = Array.isArray(folder.config.architectures) ? (folder.config.architectures as unknown[]) : []
  const role = (Object.keys(ELECTRA_ARCHITECTURES) as ElectraRole[]).find((r) => archs.includes(ELECTRA_ARCHITECTURES[r]))
  return {config, tensors: folder.tensors, role}
}

/** Exports a pair: the discriminator (merged tables, no `_weight`) at `dir`, the generator at `dir/generator`. */
export function exportElectraPair(opts: {pair: RtdPair<ElectraConfig>; dir: string; extraFiles?: Record<string, string | Uint8Array>}): {discriminator: string; generator: string} {
  const {pair, dir, extraFiles} = opts
  const d = writeElectraFolder({dir, config: pair.opts.discriminator, role: 'discriminator', tensors: pair.exportDiscriminatorTensors(), extraFiles})
  const g = writeElectraFolder({dir: join(dir, 'generator'), config: pair.opts.generator, role: 'generator', tensors: pair.exportGeneratorTensors(), extraFiles})
  return {discriminator: d.dir, generator: g.dir}
}
