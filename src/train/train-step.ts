/**
 * One optimizer update of the training loop (trainer.ts): the phases (joint: one optimizer over
 * every group; decoupled: one per group, in group order), each summing its gradients over the
 * step's micro-batches, clipping them and stepping its optimizer. A non-finite loss or gradient
 * norm stops the step with a RuntimeFailure before that phase's update is applied.
 */
import type * as tf from '#tfjs'
import {RuntimeFailure} from '../errors.js'
import {AdamW} from './adamw.js'
import {tensorKey} from './checkpoint-io.js'
import {clipByGlobalNorm} from './clip.js'
import {GradAccumulator} from './grad-accumulator.js'
import type {LossWeights} from './loss-weight.js'
import type {OptimizerOptions} from './trainer.js'
import type {LossAndGrads, ParameterGroup, Trainable, TrainingOrder} from './trainable.js'

/** One optimizer and the groups it updates. */
export interface Phase {
  name: string
  groups: ParameterGroup[]
  optimizer: AdamW
}

/** The step's optimizers: joint = one over all groups; decoupled = one per group, in group order. */
export function createPhases(params: {groups: ParameterGroup[]; order: TrainingOrder; optimizer: OptimizerOptions}): Phase[] {
  const {groups, order, optimizer} = params
  const adamw = (gs: ParameterGroup[]): AdamW => {
    const variables = new Map<string, tf.Variable>()
    for (const g of gs) for (const [n, v] of g.variables) variables.set(tensorKey(g.name, n), v)
    const noDecay = optimizer.noDecay
    return new AdamW({...optimizer, variables, noDecay: noDecay && ((name: string) => noDecay(name.slice(name.indexOf('/') + 1)))})
  }
  return order === 'joint' ? [{name: 'joint', groups, optimizer: adamw(groups)}] : groups.map((g) => ({name: g.name, groups: [g], optimizer: adamw([g])}))
}

export interface StepResult {
  /** Mean losses over the micro-batches; `loss` sums the phases' objectives. */
  losses: Record<string, number>
  /** Non-pad tokens of the step's micro-batches. */
  tokens: number
  seconds: number
  /** `grad_norm` (joint) or `grad_norm_<phase>` (decoupled), before clipping. */
  gradNorms: Record<string, number>
}

/** One update: every phase over every micro-batch, then clip and step that phase's optimizer. */
export async function runStep<B>(params: {model: Trainable<B>; batches: B[]; phases: Phase[]; step: number; weights: LossWeights; lr: number; maxGradNorm: number}): Promise<StepResult> {
  const {model, batches, phases, step, weights, lr, maxGradNorm} = params
  const t0 = performance.now()
  const losses: Record<string, number> = {}
  const gradNorms: Record<string, number> = {}
  let tokens = 0
  for (const [pi, phase] of phases.entries()) {
    const groupNames = phase.groups.map((g) => g.name)
    const acc = new GradAccumulator()
    const sums: Record<string, number> = {}
    try {
      for (const [i, batch] of batches.entries()) {
        const r: LossAndGrads = await model.computeLossAndGrads(batch, {step, weights, training: true, groups: groupNames, microBatch: i})
        const flat = new Map<string, tf.Tensor>()
        for (const [g, grads] of r.grads) {
          for (const [n, t] of grads) {
            if (groupNames.includes(g)) flat.set(tensorKey(g, n), t)
            else t.dispose() // a gradient nobody asked for
          }
        }
        acc.add(flat)
        for (const [n, v] of Object.entries(r.losses)) sums[n] = (sums[n] ?? 0) + v
        if (pi === 0) tokens += r.tokens
      }
      const phaseLosses = Object.fromEntries(Object.entries(sums).map(([n, v]) => [n, v / batches.length]))
      const bad = Object.entries(phaseLosses).filter(([, v]) => !Number.isFinite(v))
      if (bad.length > 0) {
        const terms = Object.entries({...losses, ...phaseLosses}).map(([n, v]) => `${n}=${v}`).join(', ')
        throw new RuntimeFailure(`non-finite loss at step ${step + 1} (${terms}); no update was applied`, {
          code: 'train.non_finite_loss',
          suggestions: ['lower the learning rate or lambda, or enable gradient clipping', 'the last good checkpoint is still in <run-dir>/checkpoints; resume from it after changing the pipeline'],
        })
      }
      // merge: the objectives add up (L = w·L_MLM + λ·L_RTD); the terms come from their own phase
      for (const [n, v] of Object.entries(phaseLosses)) losses[n] = n === 'loss' ? (losses[n] ?? 0) + v : (losses[n] ?? v)
      const mean = acc.take()
      let clipped: Map<string, tf.Tensor> | undefined
      try {
        const c = await clipByGlobalNorm({grads: mean, maxNorm: maxGradNorm})
        clipped = c.grads
        gradNorms[phases.length === 1 ? 'grad_norm' : `grad_norm_${phase.name}`] = c.norm
        if (!Number.isFinite(c.norm)) {
          throw new RuntimeFailure(`non-finite gradient norm (${c.norm}) at step ${step + 1} in ${phase.name} (${Object.entries(losses).map(([n, v]) => `${n}=${v}`).join(', ')}); no update was applied`, {
            code: 'train.non_finite_grad',
            suggestions: ['lower the learning rate, or enable gradient clipping', 'the last good checkpoint is still in <run-dir>/checkpoints'],
          })
        }
        phase.optimizer.step(clipped, lr)
      } finally {
        for (const t of mean.values()) t.dispose()
        if (clipped) for (const t of clipped.values()) t.dispose()
      }
    } finally {
      acc.dispose()
    }
  }
  return {losses, tokens, seconds: (performance.now() - t0) / 1000, gradNorms}
}
