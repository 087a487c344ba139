/**
 * `rtd export <run-dir>`: rebuild a run's networks from <runDir>/model/model.json, load a
 * complete training checkpoint into them and write the same Hugging Face folders as the
 * end-of-training export (SPEC A.9). The model plugin named by the record rebuilds them
 * (RtdPlugin.restore), with the architecture it names, both found through the plugin registry
 * (built-ins plus the run's external modules, <runDir>/plugins.json).
 *
 * Checkpoint tensors are named `<group>/<hf name>` (src/train), the groups being the restored
 * model's parameterGroups(). Every variable must be found with its shape and every checkpoint
 * tensor must be used, so a checkpoint of another model is refused, not half loaded.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import * as tf from '#tfjs'
import {ConfigError, RuntimeFailure} from '../errors.js'
import type {RestoredModel} from '../plugin/contract.js'
import {PluginRegistry} from '../plugin/registry.js'
import {initBackend, type BackendChoice} from '../runtime/backend.js'
import {withHostCopies} from '../runtime/host-reads.js'
import {assignCheckpointTensors, checkpointsDir, loadLatestCheckpoint, MODEL_FILE, openCheckpoint, verifyCheckpoint, type LoadedCheckpoint} from '../train/index.js'
import type {HostTensor} from '../checkpoint/index.js'

export interface ExportRunOptions {
  runDir: string
  /** Parent folder of the export; default the run's <output.dir> (model.json `export_dir`'s parent). */
  output?: string
  /** Export this checkpoint step instead of the newest complete one. */
  step?: number
  /** Backend for the (light) work of the export. Default `cpu`: no heap limit, exact fp32 adds. */
  backend?: BackendChoice
  log?: (message: string) => void
}

export interface ExportRunResult {
  runDir: string
  plugin: string
  step: number
  checkpoint: string
  saveName: string
  /** Output name -> folder, as the end-of-training export reports them (discriminator, generator / model). */
  outputs: Record<string, string>
}

interface ModelJson {
  plugin?: unknown
  architecture?: unknown
  save_name?: unknown
  export_dir?: unknown
  tokenizer_dir?: unknown
}

function readModelJson(runDir: string): {json: ModelJson; file: string} {
  const file = join(runDir, 'model', 'model.json')
  if (!existsSync(runDir)) throw new ConfigError(`run directory ${runDir} does not exist`, {code: 'export.no_run'})
  if (!existsSync(file)) {
    throw new ConfigError(`${runDir} has no model/model.json: its model stage never started, so there is nothing to export`, {
      code: 'export.no_model',
      suggestions: ['Give the run directory printed by `rtd run` (it holds status.json, metrics.jsonl, model/, checkpoints/).'],
    })
  }
  try {
    return {json: JSON.parse(readFileSync(file, 'utf8')) as ModelJson, file}
  } catch (e) {
    throw new RuntimeFailure(`${file} is not valid JSON (${(e as Error).message})`, {code: 'export.model_json'})
  }
}

/** The checkpoint's step, dir and model tensors: the given step, or the newest complete one. */
function readCheckpoint(opts: {runDir: string; step?: number; log: (m: string) => void}): {step: number; dir: string; tensors: Map<string, HostTensor>} {
  const {runDir, step, log} = opts
  let ckpt: LoadedCheckpoint | null
  if (step !== undefined) {
    const dir = join(checkpointsDir(runDir), `step-${step}`)
    if (!existsSync(dir)) throw new ConfigError(`${runDir} has no checkpoint for step ${step} (looked for ${dir})`, {code: 'export.no_step', suggestions: ['Leave out --step to export the newest complete checkpoint.']})
    const why = verifyCheckpoint({dir})
    if (why !== null) throw new RuntimeFailure(`checkpoint ${dir} is not usable: ${why}`, {code: 'export.bad_checkpoint'})
    ckpt = openCheckpoint({dir, step})
  } else {
    ckpt = loadLatestCheckpoint({runDir, onSkip: (dir, why) => log(`skipping checkpoint ${dir}: ${why}`)})
  }
  if (!ckpt) {
    throw new RuntimeFailure(`${runDir} has no complete checkpoint to export`, {
      code: 'export.no_checkpoint',
      suggestions: ['Checkpoints are written every schedule.checkpoint_every steps, at the end and on Ctrl-C; resume the run to get one.'],
    })
  }
  return {step: ckpt.step, dir: ckpt.dir, tensors: ckpt.readTensors(MODEL_FILE)}
}

/** Assigns `<group>/<name>` checkpoint tensors to the variables; refuses missing, extra or misshapen ones. */
function assignAll(opts: {vars: {key: string; variable: tf.Variable}[]; tensors: Map<string, HostTensor>; where: string}): void {
  assignCheckpointTensors({...opts, model: 'the model model/model.json describes', codePrefix: 'export', refuseExtra: true})
}

function tokenizerDirOf(runDir: string, json: ModelJson): string {
  const copy = join(runDir, 'model', 'tokenizer')
  if (existsSync(copy)) return copy
  if (typeof json.tokenizer_dir === 'string' && existsSync(json.tokenizer_dir)) return json.tokenizer_dir
  throw new RuntimeFailure(`${runDir} has no tokenizer to ship with the export (no model/tokenizer/, and model.json's tokenizer_dir ${JSON.stringify(json.tokenizer_dir)} is gone)`, {
    code: 'export.no_tokenizer',
    suggestions: ['Rebuild the data with `rtd data build <pipeline>` (same data section) and copy its tokenizer folder to <run-dir>/model/tokenizer/.'],
  })
}

/** A run's networks with a checkpoint's weights: what `rtd export` writes, and what tests compare exports with. */
export interface LoadedRunModel {
  /** The model plugin that trained it (model.json `plugin`). */
  plugin: string
  /** Its networks; plugin-specific fields (e.g. gdes's `pair`) beside the contract's. */
  restored: RestoredModel
  step: number
  checkpoint: string
  saveName: string
  /** model.json `export_dir`: where the end-of-training export went. */
  exportDir?: string
  tokenizerDir: string
  dispose(): void
}

/** Built-in plugins plus the external modules the run's pipeline loaded (<runDir>/plugins.json). */
async function registryForRun(runDir: string): Promise<PluginRegistry> {
  const registry = new PluginRegistry()
  const file = join(runDir, 'plugins.json')
  if (!existsSync(file)) return registry // runs from before plugins.json: built-ins only
  const modules = (JSON.parse(readFileSync(file, 'utf8')) as {modules?: unknown}).modules
  for (const m of Array.isArray(modules) ? modules : []) {
    if (typeof m !== 'string') continue
    if (!existsSync(m)) throw new ConfigError(`plugin module ${m} that run ${runDir} was trained with is gone`, {code: 'export.plugin', suggestions: ['Restore the module at that path, then export again.']})
    await registry.load({specifier: m, baseDir: runDir})
  }
  return registry
}

/** Rebuilds the networks of model/model.json and loads the checkpoint (newest complete one, or `step`). */
export async function loadRunModel(opts: {runDir: string; step?: number; backend?: BackendChoice; log?: (message: string) => void}): Promise<LoadedRunModel> {
  const runDir = resolve(opts.runDir)
  const {json, file} = readModelJson(runDir)
  const saveName = typeof json.save_name === 'string' ? json.save_name : undefined
  if (!saveName) throw new RuntimeFailure(`${file} records no save_name (written by an older rtd)`, {code: 'export.model_json'})
  const tokenizerDir = tokenizerDirOf(runDir, json)
  const registry = await registryForRun(runDir)
  const name = String(json.plugin)
  const plugin = registry.get('model', name)
  if (plugin?.restore === undefined) {
    throw new RuntimeFailure(`${file} names model plugin ${JSON.stringify(json.plugin)}, which ${plugin ? 'cannot rebuild its models (no restore)' : 'is not available'}; rtd export can rebuild: ${registry.list('model').filter((r) => (r.plugin as {restore?: unknown}).restore).map((r) => r.plugin.name).join(', ')}`, {code: 'export.plugin'})
  }
  const ckpt = readCheckpoint({runDir, step: opts.step, log: opts.log ?? (() => {})})
  await initBackend({backend: opts.backend ?? 'cpu', native: 'off'})
  const restored = await plugin.restore(json as Record<string, unknown>, {architecture: (a) => registry.architecture(a), where: file})
  try {
    const vars = restored.parameterGroups().flatMap((g) => [...g.variables].map(([n, variable]) => ({key: `${g.name}/${n}`, variable})))
    assignAll({vars, tensors: ckpt.tensors, where: ckpt.dir})
  } catch (e) {
    restored.dispose()
    throw e
  }
  return {plugin: name, restored, step: ckpt.step, checkpoint: ckpt.dir, saveName, tokenizerDir, ...(typeof json.export_dir === 'string' ? {exportDir: json.export_dir} : {}), dispose: () => restored.dispose()}
}

export async function exportRun(opts: ExportRunOptions): Promise<ExportRunResult> {
  const runDir = resolve(opts.runDir)
  const log = opts.log ?? (() => {})
  const {json, file} = readModelJson(runDir)
  const parent = opts.output !== undefined ? resolve(opts.output) : typeof json.export_dir === 'string' ? resolve(json.export_dir, '..') : undefined
  if (parent === undefined) throw new ConfigError(`${file} records no export_dir; give --output <dir>`, {code: 'export.no_output'})
  const loaded = await loadRunModel({runDir, step: opts.step, backend: opts.backend, log})
  try {
    // the exporters read synchronously: on webgpu the parameters (this process's only variables) are read (async) first
    const params = Object.values(tf.engine().registeredVariables)
    const outputs = await withHostCopies(params, () => loaded.restored.exportTo({dir: join(parent, loaded.saveName), tokenizerDir: loaded.tokenizerDir}))
    for (const [k, v] of Object.entries(outputs)) log(`exported ${k}: ${v}`)
    return {runDir, plugin: loaded.plugin, step: loaded.step, checkpoint: loaded.checkpoint, saveName: loaded.saveName, outputs}
  } finally {
    loaded.dispose()
  }
}
