/**
 * What a training checkpoint holds and how it goes into and out of live variables: the
 * trainer saves and restores (variables, optimizer moments, loop position, model state), and
 * `rtd export` loads the model tensors into rebuilt networks through the same assignment.
 *
 * Files (checkpoint-store.ts writes them atomically): `model.safetensors` with every variable
 * as `<group>/<name>`, `optimizer-<phase>.safetensors` with `m/<key>` and `v/<key>`, and
 * state.json (TrainerState plus the caller's `meta`).
 */
import * as tf from '#tfjs'
import type {HostTensor, TensorSource} from '../checkpoint/safetensors.js'
import {ConfigError, RuntimeFailure} from '../errors.js'
import type {AdamWState} from './adamw.js'
import {saveCheckpoint, type LoadedCheckpoint} from './checkpoint-store.js'
import type {LossWeights} from './loss-weight.js'
import type {Phase} from './train-step.js'
import type {ParameterGroup, Trainable, TrainingOrder} from './trainable.js'

export const MODEL_FILE = 'model.safetensors'
export const optimizerFile = (phase: string): string => `optimizer-${phase}.safetensors`
/** A variable's name in checkpoints and optimizers: `<group>/<name>`. */
export const tensorKey = (group: string, name: string): string => `${group}/${name}`

/** state.json as the trainer writes it (plus `meta` fields). */
export interface TrainerState {
  step: number
  epoch: number
  stepInEpoch: number
  dataPosition: unknown
  order: TrainingOrder
  optimizerSteps: Record<string, Record<string, number>>
  modelState?: unknown
  lr: number
  weights: LossWeights
}

/** Read when written: one tensor's host copy at a time, not the whole model's (or twice it, for AdamW's moments). */
function hostSource(v: tf.Tensor, name: string, checkFinite: boolean): TensorSource {
  return {
    shape: [...v.shape],
    dtype: v.dtype === 'int32' ? 'I32' : 'F32',
    read: () => {
      const data = v.dataSync() as Float32Array | Int32Array
      if (checkFinite && data instanceof Float32Array) {
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i])) throw new RuntimeFailure(`refusing to checkpoint: ${name} has a non-finite value at index ${i}`, {code: 'checkpoint.non_finite'})
        }
      }
      return data
    },
  }
}

/** Every tensor a checkpoint holds: the parameters and the optimizers' moments. */
export function checkpointTensors(groups: ParameterGroup[], phases: Phase[]): tf.Tensor[] {
  return [...groups.flatMap((g) => [...g.variables.values()]), ...phases.flatMap((p) => p.optimizer.stateTensors())]
}

/** Saves a resumable checkpoint of the loop's state; returns its directory. */
export function writeTrainingCheckpoint(params: {runDir: string; keep?: number; groups: ParameterGroup[]; phases: Phase[]; model: Trainable<unknown>; meta?: Record<string, unknown>; state: Omit<TrainerState, 'optimizerSteps' | 'modelState'>}): string {
  const {groups, phases, model, state} = params
  // host copies are made tensor by tensor, as each is written (memory: one tensor at a time)
  const modelTensors = new Map<string, TensorSource>()
  for (const g of groups) for (const [n, v] of g.variables) modelTensors.set(tensorKey(g.name, n), hostSource(v, tensorKey(g.name, n), true))
  const tensors: Record<string, Map<string, TensorSource>> = {[MODEL_FILE]: modelTensors}
  const optimizerSteps: Record<string, Record<string, number>> = {}
  for (const p of phases) {
    optimizerSteps[p.name] = p.optimizer.stepCounts()
    const t = new Map<string, TensorSource>()
    for (const [which, moments] of Object.entries(p.optimizer.momentTensors())) for (const [n, v] of moments) t.set(`${which}/${n}`, hostSource(v, `${which}/${n}`, false))
    tensors[optimizerFile(p.name)] = t
  }
  const full: TrainerState & Record<string, unknown> = {...params.meta, ...state, optimizerSteps, modelState: model.getState?.()}
  return saveCheckpoint({runDir: params.runDir, step: state.step, tensors, state: full, keep: params.keep})
}

/**
 * Assigns checkpoint tensors to variables by key; refuses a missing or misshapen tensor (and,
 * with `refuseExtra`, a tensor no variable takes), so a checkpoint of another model is refused,
 * not half loaded. Error codes are `<codePrefix>.missing_tensor|shape_mismatch|extra_tensor`.
 */
export function assignCheckpointTensors(params: {
  vars: Iterable<{key: string; variable: tf.Variable}>
  tensors: Map<string, HostTensor>
  /** The checkpoint's directory, for messages. */
  where: string
  /** What the variables belong to, for messages (e.g. `the model`). */
  model: string
  codePrefix: string
  refuseExtra?: boolean
  suggestions?: string[]
}): void {
  const {tensors, where, model, codePrefix, suggestions} = params
  const used = new Set<string>()
  tf.tidy(() => {
    for (const {key, variable} of params.vars) {
      const h = tensors.get(key)
      if (!h) throw new RuntimeFailure(`checkpoint ${where} has no tensor ${key}: it was written for a different model than ${model}`, {code: `${codePrefix}.missing_tensor`, suggestions})
      if (!tf.util.arraysEqual(h.shape, variable.shape)) {
        throw new RuntimeFailure(`checkpoint tensor ${key} has shape ${JSON.stringify(h.shape)}, ${model} has ${JSON.stringify(variable.shape)}`, {code: `${codePrefix}.shape_mismatch`, suggestions})
      }
      variable.assign(tf.tensor(h.data, h.shape, variable.dtype))
      used.add(key)
    }
  })
  const extra = params.refuseExtra ? [...tensors.keys()].filter((k) => !used.has(k)) : []
  if (extra.length > 0) {
    throw new RuntimeFailure(`checkpoint ${where} has ${extra.length} tensor(s) ${model} lacks (e.g. ${extra.slice(0, 3).join(', ')})`, {code: `${codePrefix}.extra_tensor`, suggestions})
  }
}

/** Puts a checkpoint back into the variables, the optimizers and the model's own state; returns the loop state. */
export function restoreTrainingCheckpoint(params: {ckpt: LoadedCheckpoint; groups: ParameterGroup[]; phases: Phase[]; order: TrainingOrder; model: Trainable<unknown>}): TrainerState {
  const {ckpt, groups, phases, order, model} = params
  const st = ckpt.state as unknown as TrainerState
  if (st.order !== order) {
    throw new ConfigError(`checkpoint ${ckpt.dir} was written with training order ${st.order}, this run uses ${order}`, {code: 'checkpoint.order_mismatch', suggestions: [`set the training order back to ${st.order}, or start a new run`]})
  }
  assignCheckpointTensors({
    vars: groups.flatMap((g) => [...g.variables].map(([n, variable]) => ({key: tensorKey(g.name, n), variable}))),
    tensors: ckpt.readTensors(MODEL_FILE),
    where: ckpt.dir,
    model: 'the model',
    codePrefix: 'checkpoint',
    suggestions: ['the checkpoint was written for a different model; start a new run'],
  })
  for (const p of phases) {
    const t = ckpt.readTensors(optimizerFile(p.name))
    const s: AdamWState = {steps: st.optimizerSteps[p.name] ?? {}, m: new Map(), v: new Map()}
    for (const [n, h] of t) {
      const which = n.slice(0, 2)
      if (which === 'm/') s.m.set(n.slice(2), {shape: h.shape, data: h.data as Float32Array})
      else if (which === 'v/') s.v.set(n.slice(2), {shape: h.shape, data: h.data as Float32Array})
    }
    p.optimizer.importState(s)
  }
  if (st.modelState !== undefined) model.setState?.(st.modelState)
  return st
}
