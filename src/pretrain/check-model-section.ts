/**
 * The model section's own cross-field rule (its `config` is the architecture's to check,
 * src/plugin/architecture.ts). Loads nothing heavy: model plugins' index.ts use it in `check`.
 */
import type {PluginProblem} from '../plugin/contract.js'

export function checkModelSection(opts: {config?: Record<string, unknown>; from?: string}): PluginProblem[] {
  if (opts.config && opts.from) return [{path: 'model.config', message: 'give either `from` (start from a checkpoint) or `config` (train from scratch), not both'}]
  return []
}
