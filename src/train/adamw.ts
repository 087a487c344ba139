/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101), the update
 * of torch.optim.AdamW (SPEC A.7, B.7.4):
 *
 *   p ← p − lr·wd·p                       (decay first, on the pre-update value; skipped for no-decay names)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)
 *
 * (Microsoft's XAdam, DeBERTa/optims/xadam.py, applies the same decoupled decay but without
 * bias correction; ELECTRA's AdamWeightDecay likewise. We follow torch, as SPEC A.7 asks.)
 * t counts the updates a parameter has received (torch keeps it per parameter, so a parameter
 * without a gradient in some step is skipped entirely: no decay, no moment update).
 * m and v live in non-trainable tf.Variables updated with `assign`, so a step allocates only
 * short-lived temporaries and the tensor count stays constant.
 */
import * as tf from '#tfjs'
import {RuntimeFailure} from '../errors.js'
import type {TensorToWrite} from '../checkpoint/safetensors.js'
import {SCHEDULE_SECTION} from '../config/config-sections.js'
import {exclusiveBuffer, float32View} from '../runtime/exclusive-buffer.js'
import {nativeArrayUpdateKernels, nativeUpdateKernels} from '../runtime/native/native-update.js'

/** Names that get no weight decay: biases and LayerNorm parameters (Hugging Face naming). */
export function isNoDecayName(name: string): boolean {
  return name.endsWith('.bias') || name.includes('LayerNorm')
}

/**
 * Apply single-op steps in turn, disposing each intermediate as soon as the next exists.
 * Returns a new tensor (never `x0`); the caller assigns it to a variable and disposes it.
 */
function chain(x0: tf.Tensor, ...ops: ((x: tf.Tensor) => tf.Tensor)[]): tf.Tensor {
  let x = x0
  for (const op of ops) {
    const y = tf.tidy(() => op(x))
    if (x !== x0) x.dispose()
    x = y
  }
  return x
}

/** `variable := value`, then drop our handle on `value` (the variable keeps the data). */
function assignOwned(variable: tf.Variable, value: tf.Tensor): void {
  variable.assign(value)
  value.dispose()
}

/** An unnamed (tfjs variable names are global) non-trainable zero variable, without a dangling initial tensor. */
function zerosVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape, 'float32')
  const v = tf.variable(z, false)
  z.dispose()
  return v
}

/**
 * The update of `step` written into p, m and v's own buffers (no temporaries), when all three
 * can be written in place and g is readable (exclusive-buffer.ts); false otherwise. Every
 * operation is rounded to float32 in the order of the tfjs path below, so the results are
 * bit for bit the same (float32 +, -, ×, ÷ and sqrt are correctly rounded in both). With the
 * native kernels registered and g on the same heap, the loop runs in C (native-update.ts).
 */
function updateInPlace(o: {p: tf.Variable; m: tf.Variable; v: tf.Variable; g: tf.Tensor; b1: number; b2: number; eps: number; stepSize: number; sqrtBc2: number; decay: number}): boolean {
  if (o.g.dtype !== 'float32') return false
  const P = exclusiveBuffer(o.p)
  const M = P && exclusiveBuffer(o.m)
  const V = M && exclusiveBuffer(o.v)
  if (!P || !M || !V) return false
  const g = float32View(o.g)
  const arrays = nativeArrayUpdateKernels()
  if (arrays !== undefined && tf.getBackend() === 'native' && g.length === P.values.length) {
    // the native backend: one threaded C loop on the arrays, the same float32 operations in the same order
    arrays.adamw(P.values, g, M.values, V.values, 1 - o.b1, o.b1, 1 - o.b2, o.b2, o.sqrtBc2, o.eps, o.stepSize, o.decay, o.decay !== 1)
    P.done()
    M.done()
    V.done()
    return true
  }
  const native = nativeUpdateKernels()
  if (native !== undefined && g.buffer === P.values.buffer) {
    // one C loop over the heap, same float32 operations in the same order (rtd_native.c adamw)
    native.adamw(P.values.buffer as ArrayBuffer, P.values.byteOffset, g.byteOffset, M.values.byteOffset, V.values.byteOffset, P.values.length,
      1 - o.b1, o.b1, 1 - o.b2, o.b2, o.sqrtBc2, o.eps, o.stepSize, o.decay, o.decay !== 1)
    P.done()
    M.done()
    V.done()
    return true
  }
  const f = Math.fround
  // the scalars as the float32 tensors tfjs would make of them
  const [c1, b1, c2, b2, bc2, eps, step, decay] = [1 - o.b1, o.b1, 1 - o.b2, o.b2, o.sqrtBc2, o.eps, o.stepSize, o.decay].map(f) as [number, number, number, number, number, number, number, number]
  const p = P.values
  const m = M.values
  const v = V.values
  const decays = o.decay !== 1
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!
    const mi = f(f(gi * c1) + f(m[i]! * b1))
    const vi = f(f(f(gi * gi) * c2) + f(v[i]! * b2))
    m[i] = mi
    v[i] = vi
    const u = f(f(mi / f(f(f(Math.sqrt(vi)) / bc2) + eps)) * step)
    p[i] = decays ? f(f(p[i]! * decay) - u) : f(p[i]! - u)
  }
  P.done()
  M.done()
  V.done()
  return true
}

export interface AdamWOptions {
  /** Parameters by name. Names are also the keys of `step`'s gradient map and of the state. */
  variables: Map<string, tf.Variable>
  /** Default: the pipeline schema's (schedule.optimizer.betas[0], 0.9). */
  beta1?: number
  /** Default: the pipeline schema's (schedule.optimizer.betas[1], 0.999). */
  beta2?: number
  /** Default: the pipeline schema's (1e-6, the DeBERTa/ELECTRA value; torch's default is 1e-8). */
  eps?: number
  /** Decoupled weight decay. Default: the pipeline schema's (0.01). */
  weightDecay?: number
  /** Which names are exempt from weight decay. Default: `isNoDecayName`. */
  noDecay?: (name: string) => boolean
}

/** Optimizer state as host arrays, for checkpoints. */
export interface AdamWState {
  /** Updates received, per parameter. */
  steps: Record<string, number>
  m: Map<string, TensorToWrite>
  v: Map<string, TensorToWrite>
}

export class AdamW {
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly weightDecay: number
  private readonly variables: Map<string, tf.Variable>
  private readonly decays: Map<string, boolean>
  private readonly m = new Map<string, tf.Variable>()
  private readonly v = new Map<string, tf.Variable>()
  private readonly steps = new Map<string, number>()

  constructor(opts: AdamWOptions) {
    // defaults: the pipeline schema's schedule.optimizer (config-sections.ts)
    const dflt = SCHEDULE_SECTION.properties.optimizer.properties
    this.beta1 = opts.beta1 ?? dflt.betas.default[0]
    this.beta2 = opts.beta2 ?? dflt.betas.default[1]
    this.eps = opts.eps ?? dflt.eps.default
    this.weightDecay = opts.weightDecay ?? dflt.weight_decay.default
    const noDecay = opts.noDecay ?? isNoDecayName
    this.variables = opts.variables
    this.decays = new Map()
    for (const [name, p] of opts.variables) {
      this.decays.set(name, !noDecay(name))
      this.m.set(name, zerosVariable(p.shape))
      this.v.set(name, zerosVariable(p.shape))
      this.steps.set(name, 0)
    }
  }

  /** Whether `name` is weight-decayed. */
  isDecayed(name: string): boolean {
    return this.decays.get(name) ?? false
  }

  /**
   * Apply one update with learning rate `lr`. `grads` maps parameter names to gradients of
   * the same shape; parameters absent from it are left untouched. The caller keeps
   * ownership of the gradient tensors.
   */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    for (const name of grads.keys()) {
      if (!this.variables.has(name)) throw new RuntimeFailure(`AdamW got a gradient for ${name}, which is not one of its ${this.variables.size} parameters`, {code: 'optimizer.unknown_parameter'})
    }
    const {beta1: b1, beta2: b2, eps, weightDecay: wd} = this
    for (const [name, g] of grads) {
      const p = this.variables.get(name)!
      if (!tf.util.arraysEqual(g.shape, p.shape)) {
        throw new RuntimeFailure(`gradient of ${name} has shape ${JSON.stringify(g.shape)}, parameter has ${JSON.stringify(p.shape)}`, {code: 'optimizer.shape_mismatch'})
      }
      const t = this.steps.get(name)! + 1
      this.steps.set(name, t)
      const m = this.m.get(name)!
      const v = this.v.get(name)!
      // scalars computed in float64 on the host, like torch's python-float step size
      const stepSize = lr / (1 - Math.pow(b1, t))
      const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t))
      const decay = this.decays.get(name) ? 1 - lr * wd : 1
      if (updateInPlace({p, m, v, g, b1, b2, eps, stepSize, sqrtBc2, decay})) continue
      // one op at a time, freeing each intermediate: at most two temporaries of the
      // parameter's size are alive (the word embeddings of base are 394 MB each)
      const g32 = g.dtype === 'float32' ? g : tf.cast(g, 'float32')
      assignOwned(m, chain(g32, (x) => x.mul(1 - b1), (x) => x.add(tf.mul(m, b1))))
      assignOwned(v, chain(g32, (x) => x.square(), (x) => x.mul(1 - b2), (x) => x.add(tf.mul(v, b2))))
      if (g32 !== g) g32.dispose()
      assignOwned(
        p,
        chain(
          v,
          (x) => x.sqrt(),
          (x) => x.div(sqrtBc2),
          (x) => x.add(eps),
          (x) => m.div(x),
          (x) => x.mul(stepSize),
          (x) => (decay === 1 ? p.sub(x) : p.mul(decay).sub(x)),
        ),
      )
    }
  }

  /** Updates received, per parameter. */
  stepCounts(): Record<string, number> {
    return Object.fromEntries(this.steps)
  }

  /** The moment tensors (m and v of every parameter), e.g. to read them to the host. */
  stateTensors(): tf.Tensor[] {
    return [...this.m.values(), ...this.v.values()]
  }

  /** The moment tensors by parameter name (checkpoints read them one at a time). */
  momentTensors(): {m: ReadonlyMap<string, tf.Tensor>; v: ReadonlyMap<string, tf.Tensor>} {
    return {m: this.m, v: this.v}
  }

  /** Host copy of m, v and the step counts. */
  exportState(): AdamWState {
    const state: AdamWState = {steps: {}, m: new Map(), v: new Map()}
    for (const name of this.variables.keys()) {
      state.steps[name] = this.steps.get(name)!
      const m = this.m.get(name)!
      const v = this.v.get(name)!
      state.m.set(name, {shape: [...m.shape], data: m.dataSync() as Float32Array})
      state.v.set(name, {shape: [...v.shape], data: v.dataSync() as Float32Array})
    }
    return state
  }

  /** Restore a state from `exportState` (every parameter must be present, shapes must match). */
  importState(state: AdamWState): void {
    for (const name of this.variables.keys()) {
      const m = state.m.get(name)
      const v = state.v.get(name)
      const t = state.steps[name]
      if (!m || !v || t === undefined) throw new RuntimeFailure(`optimizer state has no entry for parameter ${name}`, {code: 'optimizer.state_missing', suggestions: ['the checkpoint was written for a different model; start a new run']})
      for (const [which, h, target] of [['m', m, this.m.get(name)!], ['v', v, this.v.get(name)!]] as const) {
        if (!tf.util.arraysEqual(h.shape, target.shape)) {
          throw new RuntimeFailure(`optimizer state ${which} of ${name} has shape ${JSON.stringify(h.shape)}, parameter has ${JSON.stringify(target.shape)}`, {code: 'optimizer.state_shape'})
        }
        tf.tidy(() => target.assign(tf.tensor(Float32Array.from(h.data), h.shape, 'float32')))
      }
      this.steps.set(name, t)
    }
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose()
    for (const x of this.v.values()) x.dispose()
    this.m.clear()
    this.v.clear()
  }
}
