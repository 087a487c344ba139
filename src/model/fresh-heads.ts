/**
 * A starting checkpoint without a prediction head (an rtd discriminator export has no MLM head,
 * a generator export no RTD head, a bare encoder neither): the missing head keeps the model's
 * fresh initialisation, as the paper starts any new head (normal(0, initializer_range) weights,
 * zero biases, unit LayerNorm), and the caller warns with the tensor names. A head the file has
 * in part is not filled in: that is a mismatched file, and loading says which tensors are wrong.
 */
import type {NamedParameters} from './architecture.js'
import {type HostTensorLike, toHost} from './hf-tensors.js'

export interface FreshHead {
  /** e.g. `MLM head`. */
  head: string
  /** Its tensors (HF names), initialised fresh. */
  names: string[]
}

/** `tensors` plus the current (fresh) values of every head of `params` it lacks entirely. */
export function addFreshHeads(opts: {params: NamedParameters; tensors: Map<string, HostTensorLike>}): {tensors: Map<string, HostTensorLike>; fresh: FreshHead[]} {
  const {params, tensors} = opts
  if (params.headOf === undefined || tensors.size === 0) return {tensors, fresh: []}
  const byHead = new Map<string, string[]>()
  for (const name of params.vars.keys()) {
    const head = params.headOf(name)
    if (head !== undefined) byHead.set(head, [...(byHead.get(head) ?? []), name])
  }
  // a file of nothing but heads is no starting point: leave it to the loader's error
  if (![...tensors.keys()].some((k) => params.headOf!(k) === undefined)) return {tensors, fresh: []}
  const fresh: FreshHead[] = []
  let out = tensors
  for (const [head, names] of byHead) {
    if (names.some((n) => tensors.has(n))) continue
    if (out === tensors) out = new Map(tensors)
    for (const n of names) out.set(n, toHost(params.vars.get(n)!))
    fresh.push({head, names})
  }
  return {tensors: out, fresh}
}

/** The warning for heads initialised fresh; `role` and `source` say whose and from where. */
export function freshHeadsWarning(opts: {role: string; source: string; fresh: FreshHead[]}): string {
  const heads = opts.fresh.map((f) => `${f.head} (${f.names.join(', ')})`).join('; ')
  return `${opts.role}: ${opts.source} has no ${heads}; initialised fresh (normal(0, initializer_range) weights, zero biases, unit LayerNorm), as for a new head`
}
