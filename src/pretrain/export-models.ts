/**
 * Hugging Face export of a trained pair (SPEC A.9): `<dir>/` is the discriminator
 * (config.json, model.safetensors with word_embeddings.weight = E_G + E_Δ under GDES and the
 * RTD head as mask_predictions.*), `<dir>/generator/` the generator (lm_predictions.lm_head.*),
 * the tokenizer files beside both. Each folder is written under a temporary name and renamed.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {writeModelFolder} from '../checkpoint/index.js'
import {toHfConfig, type DebertaConfig, type HostTensorLike, type MlmModel, type RtdPair} from '../model/index.js'

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

/** Writes one HF model folder (replacing an older export at the same place). */
export function exportModelFolder(opts: {dir: string; config: DebertaConfig; tensors: Map<string, HostTensorLike>; tokenizerDir: string; architectures?: string[]}): ExportedModel {
  const config: Record<string, unknown> = {...toHfConfig(opts.config), ...(opts.architectures ? {architectures: opts.architectures} : {})}
  // transformers reads `lm_predictions.lm_head.*` (Microsoft's names, ours) only with legacy=False;
  // with its default legacy=True DebertaV2ForMaskedLM would silently start a random `cls.*` head.
  if (opts.architectures?.includes('DebertaV2ForMaskedLM')) config.legacy = false
  return writeModelFolder({dir: opts.dir, config, tensors: opts.tensors as Map<string, {shape: number[]; data: Float32Array}>, extraFiles: tokenizerFiles(opts.tokenizerDir)})
}

/**
 * Exports a generator/discriminator pair (the gdes plugin's models): the discriminator at `dir`
 * (E_D = E_G + E_Δ under GDES, E_G under ES; no `_weight`; `mask_predictions.*`), the generator
 * at `dir`/generator (`lm_predictions.lm_head.*`). Used at the end of training and by `rtd export`.
 */
export function exportRtdPair(opts: {pair: RtdPair; dir: string; tokenizerDir: string}): {discriminator: string; generator: string} {
  const {pair, dir, tokenizerDir} = opts
  const d = exportModelFolder({dir, config: pair.opts.discriminator, tensors: pair.exportDiscriminatorTensors(), tokenizerDir})
  const g = exportModelFolder({dir: join(dir, 'generator'), config: pair.opts.generator, tensors: pair.exportGeneratorTensors(), tokenizerDir, architectures: ['DebertaV2ForMaskedLM']})
  return {discriminator: d.dir, generator: g.dir}
}

/** Exports a plain DeBERTa MLM (the mlm plugin's model) as one HF folder at `dir`. */
export function exportMlmModel(opts: {model: MlmModel; dir: string; tokenizerDir: string}): {model: string} {
  const {model, dir, tokenizerDir} = opts
  return {model: exportModelFolder({dir, config: model.opts.config, tensors: model.exportTensors(), tokenizerDir, architectures: ['DebertaV2ForMaskedLM']}).dir}
}
