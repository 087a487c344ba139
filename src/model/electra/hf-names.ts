/**
 * HF state-dict naming of ELECTRA files: the `electra.` prefix (absent in files saved from a bare
 * ElectraModel) and the keys a file may carry without being a parameter of the model at hand.
 */

const HEADS = /^(generator_predictions|generator_lm_head|discriminator_predictions)\./

/** Files saved from a bare ElectraModel have no `electra.` prefix. */
export function withElectraPrefix<T>(tensors: Map<string, T>): Map<string, T> {
  for (const k of tensors.keys()) if (k.startsWith('electra.')) return tensors
  const out = new Map<string, T>()
  for (const [k, v] of tensors) out.set(HEADS.test(k) ? k : `electra.${k}`, v)
  return out
}

/** Keys that may sit in HF ELECTRA files without being parameters of this role's model. */
export function isDocumentedElectraExtra(name: string, role: 'generator' | 'discriminator'): boolean {
  if (name === 'electra.embeddings.position_ids' || name === 'electra.embeddings.token_type_ids') return true // HF buffers
  if (name.endsWith('._weight')) return true // GDES deltas of a training checkpoint
  if (role === 'generator' && (name === 'generator_lm_head.weight' || name.startsWith('discriminator_predictions.'))) return true // tied to E_G
  if (role === 'discriminator' && (name.startsWith('generator_predictions.') || name.startsWith('generator_lm_head.'))) return true
  return false
}
