/**
 * Gradient checkpointing (recomputation) for TensorFlow.js, per encoder layer.
 *
 * tfjs keeps, until a backward pass ends, every tensor a kernel saved for its gradient and the
 * gradient of every intermediate (engine.gradients accumulates them in one tidy scope). For a
 * deberta-v3-xsmall GDES step at batch 8 that is several GB. `recomputed` runs a block as one
 * `tf.customGrad` node: its forward runs inside a kernel scope (nothing is taped, intermediates
 * are freed as it returns) and keeps only its inputs; its gradient function runs the block's
 * forward again under a nested `engine.gradients` and returns the gradients of the inputs and of
 * the block's variables (passed as explicit inputs of the node so the outer tape routes their
 * gradients to the variables). Only one block's intermediates are alive at a time.
 *
 * The recomputation is the same sequence of kernels on the same values, so the results are bit
 * for bit those of the plain forward; dropout draws its seeds again from a copy of the Rng state
 * taken before the block.
 */
import * as tf from '#tfjs'
import {nestedGradients, nestedGradientsUsable} from '../runtime/tfjs-internals.js'
import {Rng} from '../util/rng.js'
import type {ForwardContext} from './nn.js'

export interface RecomputeOptions<T extends tf.Tensor> {
  /** Differentiable inputs (gradients are returned for them). */
  inputs: tf.Tensor[]
  /** Inputs without a gradient (masks); kept alive until the backward pass. */
  constants?: tf.Tensor[]
  /** Every variable the block reads: their gradients flow through this node. */
  variables: tf.Variable[]
  ctx: ForwardContext
  /** The block; must read tensors only from its arguments, the variables and kept constants. */
  fn: (inputs: tf.Tensor[], constants: tf.Tensor[], ctx: ForwardContext) => T
}

/** `fn(inputs, constants, ctx)` with its activations recomputed in the backward pass instead of kept. */
export function recomputed<T extends tf.Tensor>(opts: RecomputeOptions<T>): T {
  const {inputs, variables, ctx, fn} = opts
  const constants = opts.constants ?? []
  if (!tf.engine().isTapeOn()) return tf.tidy(() => fn(inputs, constants, ctx))
  // another tfjs version: keep the activations (same values, more memory)
  if (!nestedGradientsUsable()) return fn(inputs, constants, ctx)
  const rngState = ctx.rng?.getState()
  const nIn = inputs.length
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (t: tf.Tensor[]) => void
    save([...inputs, ...constants])
    return {
      value: tf.tidy(() => fn(inputs, constants, ctx)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved.slice(0, nIn)
        const cs = saved.slice(nIn)
        const replay: ForwardContext = {...ctx, rng: rngState ? Rng.fromState(rngState) : undefined}
        const all = [...xs, ...variables]
        const {value, grads} = nestedGradients(() => fn(xs, cs, replay), all, dy)!
        value.dispose()
        return grads.map((g, i) => g ?? tf.zerosLike(all[i]!))
      },
    }
  }) as never) as (...t: tf.Tensor[]) => T
  return op(...inputs, ...variables)
}
