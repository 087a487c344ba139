/**
 * `rtd run`'s pre-flight: everything that can fail before work starts is checked here, before
 * the run directory exists (exit 2, nothing written). One list, so each new check has one place.
 *   - the backend the pipeline asks for can start (runtime.backend: tensorflow needs tfjs-node;
 *     runtime.native: on needs the addon);
 *   - each stage's own preflight (src/plugin/contract.ts): the hub repositories it will read are
 *     readable with the credentials at hand, or cached when offline;
 *   - the training step fits in memory (`rtd plan`'s estimate, src/pipeline/training-plan.ts, with
 *     runtime.workers' replicas), before anything is downloaded, tokenized or written.
 * A sweep runs the list for every variant before its first variant starts (run-sweep.ts).
 */
import * as path from 'node:path'

import {ConfigError, RtdError} from '../errors.js'
import {STAGE_KINDS, stageEntries, type RtdPlugin} from '../plugin/contract.js'
import type {ResolvedPipeline} from './load-pipeline.js'
import {displayPath} from './resolve-extends.js'

export interface PreflightParams {
  pipeline: ResolvedPipeline
  /** Debug notes (e.g. why no memory plan could be made). Default: nowhere. */
  log?: (msg: string) => void
}

export type PreflightCheck = (p: PreflightParams) => Promise<void>

export const PREFLIGHT_CHECKS: readonly PreflightCheck[] = [backendAvailable, stagePreflights, memoryFits]

export async function preflight(p: PreflightParams & {checks?: readonly PreflightCheck[]}): Promise<void> {
  for (const check of p.checks ?? PREFLIGHT_CHECKS) await check(p)
}

/**
 * Only the choices that can fail are tried (the default `auto` falls back to wasm): starting the
 * backend here is the same call the model stage makes, which then finds it ready.
 */
async function backendAvailable(p: PreflightParams): Promise<void> {
  const v = p.pipeline.value
  const rt = (v.runtime ?? {}) as {backend?: string; native?: string; threads?: number}
  if (v.model === undefined || (rt.backend !== 'tensorflow' && rt.native !== 'on')) return
  const {initBackend} = await import('../runtime/backend.js')
  try {
    await initBackend({backend: rt.backend as never, native: rt.native as never, threads: rt.threads})
  } catch (error) {
    if (!(error instanceof RtdError)) throw error
    // the message names the option (runtime.backend / runtime.native); the file says where it was set
    throw new ConfigError(`${displayPath(p.pipeline.file, process.cwd())}: ${error.message}`, {code: error.code, suggestions: error.suggestions, cause: error})
  }
}

async function stagePreflights(p: PreflightParams): Promise<void> {
  const {pipeline} = p
  const dir = path.dirname(pipeline.file)
  const ctx = {pipelineFile: displayPath(pipeline.file, process.cwd()), resolvePath: (x: string) => path.resolve(dir, x)}
  for (const kind of STAGE_KINDS) {
    // a list section (finetune) gives one entry per stage
    for (const {stage} of stageEntries(pipeline.value, kind)) {
      const {plugin: name, ...options} = stage
      const plugin = pipeline.registry.get(kind, name as string) as RtdPlugin | undefined
      await plugin?.preflight?.(options, ctx)
    }
  }
}

/**
 * Exit 2 with the numbers and the alternatives when the step cannot fit. A plan that cannot be
 * made (a missing model folder, no network for config.json) is left to the stage that needs it,
 * which reports it in the run's own terms.
 */
async function memoryFits(p: PreflightParams): Promise<void> {
  const {pipeline} = p
  if (pipeline.value.model === undefined) return
  const {checkPlanFits, planPipeline} = await import('./training-plan.js')
  const plan = await planPipeline({pipeline: pipeline.value, registry: pipeline.registry, file: pipeline.file}).catch((error: unknown) => {
    p.log?.(`no memory plan: ${(error as Error).message}`)
    return undefined
  })
  if (plan !== undefined) checkPlanFits(plan)
}
