/**
 * Seeded initialisation for training from scratch (SPEC B.2.6): Linear and Embedding weights
 * N(0, initializer_range²), biases 0, LayerNorm γ = 1 and β = 0, the GDES delta 0. Each tensor
 * draws from its own stream Rng.derive(seed, 'init', role, name), so values do not depend on
 * the order in which tensors are created.
 */
import {Rng} from '../util/rng.js'

export const INIT_KINDS = ['normal', 'zeros', 'ones'] as const
export type InitKind = (typeof INIT_KINDS)[number]

export function initialValues(opts: {shape: number[]; kind: InitKind; std: number; seed: number; role: string; name: string}): Float32Array {
  const size = opts.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(size)
  if (opts.kind === 'ones') out.fill(1)
  else if (opts.kind === 'normal') {
    const rng = Rng.derive(opts.seed, 'init', opts.role, opts.name)
    for (let i = 0; i < size; i++) out[i] = opts.std * rng.normal()
  }
  return out
}
