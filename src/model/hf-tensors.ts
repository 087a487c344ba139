/**
 * The naming layer between rtd's models and Hugging Face state dicts (SPEC B.4): loading host
 * tensors into a ParamStore by HF name with the checks (missing, unexpected, shape) and the list of
 * documented extra keys a file may carry, and reading variables back out as host tensors.
 */
import * as tf from '#tfjs'
import {RuntimeFailure} from '../errors.js'
import type {ParamStore} from './params.js'

export interface HostTensorLike {
  shape: number[]
  data: Float32Array | Int32Array
}

/** Files saved from a bare DebertaV2Model have no `deberta.` prefix. */
export function withDebertaPrefix<T>(tensors: Map<string, T>): Map<string, T> {
  for (const k of tensors.keys()) if (k.startsWith('deberta.')) return tensors
  const out = new Map<string, T>()
  for (const [k, v] of tensors) out.set(/^(lm_predictions|mask_predictions|cls)\./.test(k) ? k : `deberta.${k}`, v)
  return out
}

/**
 * Copies `tensors` into `store`. Every store parameter not in `skip` must be present with the same
 * shape; a key the store lacks is an error unless `isDocumentedExtra(name)` says it may be ignored.
 * Returns one note per ignored key.
 */
export function loadIntoStore(opts: {
  store: ParamStore
  tensors: Map<string, HostTensorLike>
  role: string
  skip?: Set<string>
  isDocumentedExtra?: (name: string) => boolean
}): string[] {
  const {store, tensors, role} = opts
  const skip = opts.skip ?? new Set<string>()
  const missing = [...store.vars.keys()].filter((k) => !skip.has(k) && !tensors.has(k))
  const unexpected: string[] = []
  const notes: string[] = []
  for (const k of tensors.keys()) {
    if (store.vars.has(k)) continue
    if (opts.isDocumentedExtra?.(k)) notes.push(`${role}: ignored ${k}`)
    else unexpected.push(k)
  }
  const mismatched: string[] = []
  for (const [k, v] of store.vars) {
    const t = tensors.get(k)
    if (t === undefined || skip.has(k)) continue
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) mismatched.push(`${k}: file ${JSON.stringify(t.shape)} vs model ${JSON.stringify(v.shape)}`)
  }
  if (missing.length + unexpected.length + mismatched.length > 0) {
    const parts = [
      missing.length ? `missing: ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected: ${unexpected.join(', ')}` : '',
      mismatched.length ? `wrong shape: ${mismatched.join('; ')}` : '',
    ].filter((s) => s)
    throw new RuntimeFailure(`${role} weights do not match its config (${parts.join(' | ')})`, {
      code: 'model.weights_mismatch',
      suggestions: ['check that config.json belongs to these weights (layers, hidden size, vocab, position_buckets, share_att_key)'],
    })
  }
  for (const k of store.vars.keys()) if (!skip.has(k)) store.assign(k, tensors.get(k)!)
  return notes
}

/** Host copy of one tensor. */
export function toHost(t: tf.Tensor): HostTensorLike {
  return {shape: [...t.shape], data: t.dataSync() as Float32Array}
}

/** Keys that may sit in HF/Microsoft DeBERTa files without being parameters of the model at hand (SPEC B.4). */
export function isDocumentedExtra(name: string, role: 'generator' | 'discriminator'): boolean {
  if (name === 'deberta.embeddings.position_ids') return true
  if (name === 'deberta.embeddings.position_embeddings.weight') return true // MS files; unused when position_biased_input=false
  if (name.endsWith('._weight')) return true // GDES deltas in released training checkpoints
  if (role === 'discriminator' && name.startsWith('lm_predictions.')) return true
  if (role === 'generator' && name.startsWith('mask_predictions.')) return true
  return false
}
