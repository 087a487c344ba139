import {RtdCommand} from '../cli/base-command.js'
import {pipelineArgs, splitPipelineArgv} from '../cli/pipeline-args.js'
import {ConfigError} from '../errors.js'
import {loadSweep, sweepInvalid} from '../pipeline/expand-sweep.js'
import type {ResolvedPipeline} from '../pipeline/load-pipeline.js'
import {displayPath} from '../pipeline/resolve-extends.js'
import {formatPlan, planAlternatives, planPipeline, type TrainingPlan} from '../pipeline/training-plan.js'

export type PlanResult = Omit<TrainingPlan, 'inputs'> & {alternatives?: string[]}
/** A sweep: one plan per variant. */
export type SweepPlanResult = {variants: (PlanResult & {variant: string})[]}

export default class Plan extends RtdCommand<PlanResult | SweepPlanResult> {
  static override summary = 'Estimate memory, FLOPs and time of a pipeline\'s training before running it.'

  static override description = `Reads only metadata (the model's config.json, fetched alone for a hub model; the sizes of local data files; no weights, no data) and prints per part the memory of a training step (weights, gradients, optimizer, activations, and with runtime.workers > 1 the worker threads' model copies) against what the backend can hold (the machine's RAM or RTD_MEMORY_LIMIT; the wasm heap), the FLOPs and estimated time per step on the backend runtime.backend picks, steps per epoch when the data size can be estimated, and the total. A pipeline with a \`sweep:\` section gets one plan per variant. \`rtd run\` makes the same memory check before it downloads or tokenizes anything.

Exit status: 0 fits, 2 invalid pipeline or the step (of any variant) does not fit (with alternatives).`

  static override examples = [
    '<%= config.bin %> plan pipelines/imdb-gdes.yaml',
    '<%= config.bin %> plan pipelines/imdb-gdes.yaml schedule.batch_size=2 schedule.grad_accumulation=4',
    '<%= config.bin %> plan pipelines/tiny-gdes.yaml runtime.backend=wasm --json',
  ]

  static override strict = false

  static override args = pipelineArgs

  async run(): Promise<PlanResult | SweepPlanResult> {
    const {argv} = await this.parse(Plan)
    const {pipeline: file, overrides} = splitPipelineArgv(argv)
    const {base, variants} = await loadSweep({file, overrides})
    if (variants === undefined) {
      const result = await this.planOne(base, file)
      if (!result.fits && !this.jsonEnabled()) this.exit(2)
      return result
    }
    const invalid = sweepInvalid({file: displayPath(base.file, process.cwd()), variants})
    if (invalid !== undefined) throw invalid
    const results: SweepPlanResult['variants'] = []
    for (const [i, {variant, pipeline}] of variants.entries()) {
      if (i > 0) this.log('')
      this.log(`variant ${variant.name}:`)
      results.push({variant: variant.name, ...(await this.planOne(pipeline!, `${file} (variant ${variant.name})`))})
    }
    if (results.some((r) => !r.fits) && !this.jsonEnabled()) this.exit(2)
    return {variants: results}
  }

  /** Prints one pipeline's plan (and the alternatives when it does not fit). */
  private async planOne(resolved: ResolvedPipeline, what: string): Promise<PlanResult> {
    const plan = await planPipeline({pipeline: resolved.value, registry: resolved.registry, file: resolved.file})
    if (plan === undefined) throw new ConfigError(`${what}: its model stage cannot estimate its cost (the plugin has no plan())`, {code: 'plan.unsupported'})
    for (const line of formatPlan(plan)) this.log(line)
    const {inputs: _inputs, ...result} = plan
    if (plan.fits) return result
    const alternatives = planAlternatives(plan)
    this.log('alternatives:')
    for (const a of alternatives) this.log(`  ${a}`)
    return {...result, alternatives}
  }
}
