import {RtdCommand} from '../cli/base-command.js'
import {pipelineArgs, splitPipelineArgv} from '../cli/pipeline-args.js'
import {ConfigError} from '../errors.js'
import {loadPipeline} from '../pipeline/load-pipeline.js'
import {formatPlan, planAlternatives, planPipeline, type TrainingPlan} from '../pipeline/training-plan.js'

export type PlanResult = Omit<TrainingPlan, 'inputs'> & {alternatives?: string[]}

export default class Plan extends RtdCommand<PlanResult> {
  static override summary = 'Estimate memory, FLOPs and time of a pipeline\'s training before running it.'

  static override description = `Reads only metadata (the model's config.json, fetched alone for a hub model; the sizes of local data files; no weights, no data) and prints per part the memory of a training step (weights, gradients, optimizer, activations) against what the backend can hold, the FLOPs and estimated time per step on the backend runtime.backend picks, steps per epoch when the data size can be estimated, and the total. \`rtd run\` makes the same memory check before it downloads or tokenizes anything.

Exit status: 0 fits, 2 invalid pipeline or the step does not fit (with alternatives).`

  static override examples = [
    '<%= config.bin %> plan pipelines/imdb-gdes.yaml',
    '<%= config.bin %> plan pipelines/imdb-gdes.yaml schedule.batch_size=2 schedule.grad_accumulation=4',
    '<%= config.bin %> plan pipelines/tiny-gdes.yaml runtime.backend=wasm --json',
  ]

  static override strict = false

  static override args = pipelineArgs

  async run(): Promise<PlanResult> {
    const {argv} = await this.parse(Plan)
    const {pipeline: file, overrides} = splitPipelineArgv(argv)
    const resolved = await loadPipeline({file, overrides})
    const plan = await planPipeline({pipeline: resolved.value, registry: resolved.registry, file: resolved.file})
    if (plan === undefined) throw new ConfigError(`${file}: its model stage cannot estimate its cost (the plugin has no plan())`, {code: 'plan.unsupported'})
    for (const line of formatPlan(plan)) this.log(line)
    const {inputs: _inputs, ...result} = plan
    if (plan.fits) return result
    const alternatives = planAlternatives(plan)
    this.log('alternatives:')
    for (const a of alternatives) this.log(`  ${a}`)
    if (this.jsonEnabled()) return {...result, alternatives}
    this.exit(2)
    return result
  }
}
