/**
 * The work of a pretraining model stage (the gdes and mlm plugins): build the networks, check
 * that they fit the tokenizer and the backend's memory, train with the pipeline's `schedule` and
 * `loss` sections through the generic trainer, evaluate through the evaluation stage, and
 * export Hugging Face folders. The two plugins differ only in the model they build
 * (PretrainModel), so everything else lives here once.
 */
import {cpSync, mkdirSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type * as tf from '#tfjs'
import {ConfigError} from '../errors.js'
import type {PreparedData} from '../data/prepared-data.js'
import type {Batch} from '../data/batch-iterator.js'
import type {RunContext} from '../plugin/run-context.js'
import type {RunState} from '../plugin/contract.js'
import {withHostCopies} from '../runtime/host-reads.js'
import {LOSS_SECTION, OUTPUT_SECTION, RUNTIME_SECTION, type LossSection, type OutputSection, type RuntimeSection, type ScheduleSection} from '../config/config-sections.js'
import {initBackend} from '../runtime/backend.js'
import type {EmbeddingSharing} from '../model/embeddings.js'
import {checkFitsBackend, estimateTrainingMemory, type EncoderShape, type TrainingMemoryEstimate} from '../runtime/memory-estimate.js'
import {resolveWarmupSteps, train, type TrainResult} from '../train/index.js'
import type {Trainable} from '../train/trainable.js'
import type {LrSchedule} from '../train/lr-schedule.js'
import type {Evaluable} from '../eval/evaluable.js'
import {maybeParallel} from './maybe-parallel.js'
import {shardBatchSource} from './shard-batch-source.js'

/** What a model plugin builds; the stage drives it. */
export interface PretrainModel {
  trainable: Trainable<Batch> & Evaluable
  /** For the memory estimate before any step runs. */
  memory: {discriminator: EncoderShape; generator: EncoderShape; sharing: EmbeddingSharing}
  /** Model configs written to <runDir>/model/ so `rtd export` can rebuild the networks. */
  describe(): Record<string, unknown>
  /** Write the Hugging Face folder(s) under `dir`; returns output name -> path. */
  exportTo(opts: {dir: string; tokenizerDir: string}): Record<string, string>
  variables(): tf.Variable[]
  dispose(): void
}

/**
 * <runDir>/model/model.json: the plugin's describe() (plugin name and HF configs) plus where the
 * export goes and which tokenizer it ships (also copied to <runDir>/model/tokenizer/).
 */
export type ModelRecord = Record<string, unknown> & {save_name: string; export_dir: string; tokenizer_dir: string}

/** The resolved fixed sections (schemas and types: src/config/config-sections.ts). */
export type {LossSection, RuntimeSection, ScheduleSection} from '../config/config-sections.js'

/** runtime.recompute as the model options take it (undefined = the model's auto rule). */
export function recomputeOption(ctx: RunContext): boolean | 'alternate' | undefined {
  const r = (ctx.pipeline.runtime as Partial<RuntimeSection> | undefined)?.recompute
  return r === 'on' ? true : r === 'off' ? false : r === 'alternate' ? 'alternate' : undefined
}

/** The trainer's LrSchedule; warmup_ratio becomes steps of the whole run. */
function lrSchedule(s: ScheduleSection['lr_schedule'], totalSteps: number): LrSchedule {
  const warmupSteps = s.warmup_ratio !== undefined ? resolveWarmupSteps({warmup: s.warmup_ratio, totalSteps}) : (s.warmup_steps ?? 0)
  if (s.type === 'exponential') return {type: 'exponential', gamma: s.gamma, warmupSteps}
  if (s.type === 'warmup_linear') return {type: 'warmup_linear', warmupSteps}
  return {type: 'constant', warmupSteps}
}

export function requirePreparedData(state: RunState, plugin: string): PreparedData {
  const data = state.data
  if (!data || !data.train) {
    throw new ConfigError(`model plugin ${plugin} needs a data stage before it (add a \`data:\` section, e.g. plugin: text)`, {code: 'model.no_data'})
  }
  return data
}

/** Initialise the pipeline's backend (the model stage is the first to need tensors). */
export async function initRuntime(ctx: RunContext): Promise<string> {
  const rt = (ctx.pipeline.runtime ?? {}) as Partial<RuntimeSection>
  const info = await initBackend({backend: rt.backend ?? RUNTIME_SECTION.properties.backend.default, threads: rt.threads, native: rt.native, log: (m) => ctx.log.info(m)})
  ctx.log.info(`backend ${info.backend}${info.native ? ` + native BLAS kernels (${info.threads} thread${info.threads === 1 ? '' : 's'})` : ''}`)
  return info.backend
}

export function checkMemory(opts: {memory: PretrainModel['memory']; schedule: ScheduleSection; seqLen: number; backend: string; ctx: RunContext; maskRate: number; recompute?: boolean | 'alternate'}): TrainingMemoryEstimate {
  const est = estimateTrainingMemory({
    discriminator: opts.memory.discriminator,
    generator: opts.memory.generator,
    batch: opts.schedule.batch_size,
    seqLen: opts.seqLen,
    sharing: opts.memory.sharing,
    optimizer: 'adamw',
    maskRate: opts.maskRate,
    ...(opts.recompute !== undefined ? {recompute: opts.recompute} : {}),
  })
  opts.ctx.log.debug(`memory estimate: ${est.breakdown.join('; ')}`)
  checkFitsBackend({estimate: est, backend: opts.backend})
  return est
}

/**
 * Train (evaluating at the schedule's cadence through state.evaluate) and hand the model to the
 * evaluation and export stages (state.model). Returns the trainer's result.
 */
export async function runPretraining(opts: {model: PretrainModel; data: PreparedData; ctx: RunContext; state: RunState; saveName: string}): Promise<TrainResult> {
  const {model, data, ctx, state} = opts
  const p = ctx.pipeline
  const schedule = p.schedule as ScheduleSection
  const loss = (p.loss ?? {lambda: LOSS_SECTION.properties.lambda.default, mlm_weight: LOSS_SECTION.properties.mlm_weight.default}) as LossSection
  const modelDir = join(ctx.runDir, 'model')
  mkdirSync(modelDir, {recursive: true})
  const outDir = resolve((p.output as Partial<OutputSection> | undefined)?.dir ?? OUTPUT_SECTION.properties.dir.default, opts.saveName)
  // `rtd export <run-dir>` rebuilds the networks from model.json and exports with this tokenizer
  // copy, so the run dir stays exportable when the shard cache is cleared
  cpSync(data.tokenizerDir, join(modelDir, 'tokenizer'), {recursive: true})
  const record: ModelRecord = {...model.describe(), save_name: opts.saveName, export_dir: outDir, tokenizer_dir: data.tokenizerDir}
  writeFileSync(join(modelDir, 'model.json'), JSON.stringify(record, null, 2) + '\n')

  const source = shardBatchSource({shards: data.train, batchSize: schedule.batch_size, seed: ctx.seed, maxLength: data.maxLength, padId: data.tokenizer.special.pad})
  const evaluate = state.evaluate
  const stepsPerEpoch = Math.ceil((source.batchesPerEpoch ?? 0) / schedule.grad_accumulation)
  const totalSteps = schedule.max_steps ?? (schedule.epochs ?? 1) * stepsPerEpoch
  // runtime.workers > 1: the same gradients from W replicas on worker threads (src/parallel)
  const parallel = await maybeParallel({trainable: model.trainable, runtime: p.runtime as RuntimeSection, log: (m) => ctx.log.info(m)})
  let result: TrainResult
  try {
    result = await train({
      model: parallel.trainable,
      data: source,
      ctx,
      order: schedule.training,
      ...(schedule.epochs !== undefined ? {epochs: schedule.epochs} : {}),
      ...(schedule.max_steps !== undefined ? {maxSteps: schedule.max_steps} : {}),
      gradAccumulation: schedule.grad_accumulation,
      optimizer: {lr: schedule.optimizer.lr, beta1: schedule.optimizer.betas[0], beta2: schedule.optimizer.betas[1], eps: schedule.optimizer.eps, weightDecay: schedule.optimizer.weight_decay},
      lrSchedule: lrSchedule(schedule.lr_schedule, totalSteps),
      loss: {mlm: loss.mlm_weight, rtd: loss.lambda},
      maxGradNorm: schedule.clip_norm,
      logEvery: schedule.log_every,
      evalEvery: schedule.eval_every,
      checkpointEvery: schedule.checkpoint_every,
      keep: schedule.keep,
      resume: true,
      // the final evaluation is the evaluation stage's own run
      ...(evaluate ? {evaluate: (o: {step: number; final: boolean}) => evaluate(model.trainable, data, o), evaluateAtEnd: false} : {}),
      meta: {seed: ctx.seed, pipeline: p.name},
    })
  } finally {
    await parallel.close()
  }
  // exportTo reads the parameters synchronously: on webgpu they are read (async) beforehand
  const params = model.trainable.parameterGroups().flatMap((g) => [...g.variables.values()])
  state.model = {
    evaluable: model.trainable,
    step: result.step,
    epoch: Math.min(result.epoch + 1, schedule.epochs ?? Infinity),
    ...(result.checkpoint !== undefined ? {checkpoint: result.checkpoint} : {}),
    export: {dir: outDir, write: (o) => withHostCopies(params, () => model.exportTo(o))},
  }
  return result
}
