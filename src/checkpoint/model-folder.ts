/**
 * Hugging Face model folders: config.json plus weights in one of the layouts transformers
 * writes. Reading prefers model.safetensors, then sharded safetensors, then pytorch_model.bin,
 * then sharded .bin (transformers' own order). Writing produces config.json + model.safetensors
 * that `from_pretrained` loads, atomically (temp names, then rename).
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {ConfigError, RuntimeFailure} from '../errors.js'
import {readPytorchBin} from './pytorch-bin.js'
import {type HostTensor, readSafetensors, type TensorToWrite, writeSafetensors} from './safetensors.js'
import {loadShardedCheckpoint} from './sharded.js'

export const WEIGHT_FORMATS = ['safetensors', 'safetensors-sharded', 'pytorch', 'pytorch-sharded'] as const
export type WeightFormat = (typeof WEIGHT_FORMATS)[number]

/** Candidate weight files in preference order. */
const CANDIDATES: [string, WeightFormat][] = [
  ['model.safetensors', 'safetensors'],
  ['model.safetensors.index.json', 'safetensors-sharded'],
  ['pytorch_model.bin', 'pytorch'],
  ['pytorch_model.bin.index.json', 'pytorch-sharded'],
]

export interface LoadedModelFolder {
  /** The raw Hugging Face config.json. */
  config: Record<string, unknown>
  tensors: Map<string, HostTensor>
  /** The weights file that was chosen (the index file for sharded checkpoints). */
  weightsPath: string
  /** Every file whose tensors were read (the shards for sharded checkpoints). */
  weightsPaths: string[]
  format: WeightFormat
}

function formatOf(file: string): WeightFormat {
  if (file.endsWith('.safetensors.index.json')) return 'safetensors-sharded'
  if (file.endsWith('.index.json')) return 'pytorch-sharded'
  if (file.endsWith('.safetensors')) return 'safetensors'
  return 'pytorch'
}

function folderListing(dir: string): string {
  try {
    const names = readdirSync(dir).sort()
    return names.length === 0 ? '(empty folder)' : names.join(', ')
  } catch {
    return '(folder not readable)'
  }
}

/** Read config and weights of a model folder. */
export function loadModelFolder(opts: {
  dir: string
  /** A weights file inside `dir` (e.g. `pytorch_model.generator.bin`); default: the first of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json. */
  weightsFile?: string
  /** Default `config.json` (`generator_config.json` for Microsoft's generators). */
  configFile?: string
}): LoadedModelFolder {
  const {dir} = opts
  const configFile = opts.configFile ?? 'config.json'
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`model folder ${dir} does not exist or is not a folder`, {code: 'checkpoint.no_folder'})
  const configPath = join(dir, configFile)
  if (!existsSync(configPath)) throw new ConfigError(`${dir}: no ${configFile}; the folder has: ${folderListing(dir)}`, {code: 'checkpoint.no_config'})
  let config: Record<string, unknown>
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ConfigError(`${configPath}: not valid JSON`, {code: 'checkpoint.config_invalid', cause: error})
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new ConfigError(`${configPath}: expected a JSON object`, {code: 'checkpoint.config_invalid'})

  let chosen: [string, WeightFormat] | undefined
  if (opts.weightsFile !== undefined) {
    const p = join(dir, opts.weightsFile)
    if (!existsSync(p)) throw new ConfigError(`${dir}: no ${opts.weightsFile}; the folder has: ${folderListing(dir)}`, {code: 'checkpoint.no_weights'})
    chosen = [opts.weightsFile, formatOf(opts.weightsFile)]
  } else {
    chosen = CANDIDATES.find(([f]) => existsSync(join(dir, f)))
  }
  if (!chosen) {
    throw new ConfigError(`${dir}: no weights found (looked for ${CANDIDATES.map(([f]) => f).join(', ')}); the folder has: ${folderListing(dir)}`, {
      code: 'checkpoint.no_weights',
      suggestions: ['Pass the weights file name explicitly if it has another name (e.g. pytorch_model.generator.bin)'],
    })
  }
  const [file, format] = chosen
  const weightsPath = join(dir, file)
  if (format === 'safetensors') return {config, tensors: readSafetensors(weightsPath).tensors, weightsPath, weightsPaths: [weightsPath], format}
  if (format === 'pytorch') return {config, tensors: readPytorchBin({file: weightsPath}).tensors, weightsPath, weightsPaths: [weightsPath], format}
  const {tensors, files} = loadShardedCheckpoint({indexFile: weightsPath})
  return {config, tensors, weightsPath, weightsPaths: files, format}
}

/**
 * Write config.json (2-space JSON) and model.safetensors (F32/I32, sorted names, metadata
 * {format: "pt"} as transformers expects), plus any extra files (tokenizer etc.).
 * A new folder is built under a temporary sibling name and renamed into place; into an existing
 * folder each file is written to a temporary name and renamed, so no reader ever sees a half file.
 */
export function writeModelFolder(opts: {
  dir: string
  config: Record<string, unknown>
  tensors: Map<string, TensorToWrite>
  /** Extra files by name (relative to dir), e.g. tokenizer.json. */
  extraFiles?: Record<string, string | Uint8Array>
  /** Default `model.safetensors`. */
  weightsFile?: string
  /** Default `config.json`. */
  configFile?: string
}): {dir: string; files: string[]} {
  const {dir} = opts
  const weightsFile = opts.weightsFile ?? 'model.safetensors'
  const configFile = opts.configFile ?? 'config.json'
  const files = [weightsFile, ...Object.keys(opts.extraFiles ?? {}), configFile]
  for (const f of files) if (f.includes('..') || f.startsWith('/')) throw new ConfigError(`file name ${f} leaves the model folder`, {code: 'checkpoint.bad_name'})
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const writeAll = (target: string, nameOf: (f: string) => string): void => {
    writeSafetensors(join(target, nameOf(weightsFile)), opts.tensors, {format: 'pt'})
    for (const [f, content] of Object.entries(opts.extraFiles ?? {})) {
      mkdirSync(dirname(join(target, nameOf(f))), {recursive: true})
      writeFileSync(join(target, nameOf(f)), content)
    }
    writeFileSync(join(target, nameOf(configFile)), JSON.stringify(opts.config, null, 2) + '\n')
  }
  try {
    if (!existsSync(dir)) {
      mkdirSync(dirname(dir), {recursive: true})
      const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`)
      mkdirSync(tmp)
      try {
        writeAll(tmp, (f) => f)
        renameSync(tmp, dir)
      } catch (error) {
        rmSync(tmp, {recursive: true, force: true})
        throw error
      }
    } else {
      const tmpName = (f: string): string => join(dirname(f), `.${basename(f)}.tmp-${tag}`)
      try {
        writeAll(dir, tmpName)
        for (const f of files) renameSync(join(dir, tmpName(f)), join(dir, f))
      } catch (error) {
        for (const f of files) rmSync(join(dir, tmpName(f)), {force: true})
        throw error
      }
    }
  } catch (error) {
    if (error instanceof RuntimeFailure || error instanceof ConfigError) throw error
    throw new RuntimeFailure(`could not write model folder ${dir}: ${(error as Error).message}`, {code: 'checkpoint.write_failed', cause: error})
  }
  return {dir, files: files.map((f) => join(dir, f))}
}
