/**
 * Hugging Face export of a trained pair (SPEC A.9): `<dir>/` is the discriminator
 * (config.json, model.safetensors with the shared tables merged, e.g. DeBERTa's
 * word_embeddings.weight = E_G + E_Δ under GDES, and its RTD head), `<dir>/generator/` the
 * generator with its MLM head, the tokenizer files beside both; names and `architectures` come
 * from the architecture plugin. Each folder is written under a temporary name and renamed.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {writeModelFolder} from '../checkpoint/index.js'
import type {HostTensorLike} from '../model/hf-tensors.js'
import type {RtdPair} from '../model/rtd-pair.js'
import type {ArchitectureNetworks, MaskedLmNet} from '../plugin/architecture.js'

/** `microsoft/deberta-v3-base` + gdes -> `deberta_v3_base_gdes` (the seed project's naming). */
export function defaultSaveName(opts: {from?: string; pipelineName: string; suffix: string}): string {
  const base = opts.from ? opts.from.replace(/\/+$/, '').split('/').pop()! : opts.pipelineName
  const name = base.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase()
  return name.endsWith(`_${opts.suffix}`) ? name : `${name}_${opts.suffix}`
}

function tokenizerFiles(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {}
  for (const f of readdirSync(dir)) {
    const p = join(dir, f)
    if (statSync(p).isFile()) out[f] = readFileSync(p)
  }
  return out
}

export interface ExportedModel {
  dir: string
  files: string[]
}

/** Writes one HF model folder (config.json as given, weights, tokenizer files), replacing an older export at the same place. */
export function exportModelFolder(opts: {dir: string; hfConfig: Record<string, unknown>; tensors: Map<string, HostTensorLike>; tokenizerDir: string}): ExportedModel {
  return writeModelFolder({dir: opts.dir, config: opts.hfConfig, tensors: opts.tensors as Map<string, {shape: number[]; data: Float32Array}>, extraFiles: tokenizerFiles(opts.tokenizerDir)})
}

/** config.json of an exported model: the architecture's HF config with `architectures` (and the masked-LM's extras). */
export function exportedConfig<C>(opts: {architecture: ArchitectureNetworks<C>; config: C; role: 'discriminator' | 'maskedLm'}): Record<string, unknown> {
  const {architecture: a, role} = opts
  const name = a.hfArchitectures[role]
  return {...a.configs.toHf(opts.config), ...(name ? {architectures: [name]} : {}), ...(role === 'maskedLm' ? (a.maskedLmConfigExtras ?? {}) : {})}
}

/**
 * Exports a generator/discriminator pair (the gdes plugin's models): the discriminator at `dir`
 * (shared tables merged: E_G + E_Δ under GDES, E_G under ES; no deltas; its RTD head), the
 * generator at `dir`/generator (its MLM head). Used at the end of training and by `rtd export`.
 */
export function exportRtdPair(opts: {pair: RtdPair; dir: string; tokenizerDir: string}): {discriminator: string; generator: string} {
  const {pair, dir, tokenizerDir} = opts
  const architecture = pair.opts.architecture
  const d = exportModelFolder({dir, hfConfig: exportedConfig({architecture, config: pair.opts.discriminator, role: 'discriminator'}), tensors: pair.exportDiscriminatorTensors(), tokenizerDir})
  const g = exportModelFolder({dir: join(dir, 'generator'), hfConfig: exportedConfig({architecture, config: pair.opts.generator, role: 'maskedLm'}), tensors: pair.exportGeneratorTensors(), tokenizerDir})
  return {discriminator: d.dir, generator: g.dir}
}

/** Exports one masked-LM (the mlm plugin's model) as one HF folder at `dir`. */
export function exportMlmModel<C>(opts: {model: MaskedLmNet<C>; architecture: ArchitectureNetworks<C>; dir: string; tokenizerDir: string}): {model: string} {
  const {model, architecture, dir, tokenizerDir} = opts
  return {model: exportModelFolder({dir, hfConfig: exportedConfig({architecture, config: model.config, role: 'maskedLm'}), tensors: model.exportTensors(), tokenizerDir}).dir}
}
