import {Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {RtdCommand} from '../cli/base-command.js'
import {pipelineArgs, splitPipelineArgv} from '../cli/pipeline-args.js'
import {STAGE_KINDS, stageEntries} from '../plugin/contract.js'
import {loadSweep, sweepInvalid} from '../pipeline/expand-sweep.js'
import {displayPath} from '../pipeline/resolve-extends.js'
import {orderPipeline} from '../pipeline/order-pipeline.js'

export interface ValidateResult {
  valid: true
  file: string
  /** The resolved pipeline: extends merged, overrides applied, every default filled in. */
  pipeline: Record<string, unknown>
  /** With a `sweep:` section: each variant's name, overrides and resolved pipeline. */
  variants?: {name: string; overrides: string[]; pipeline: Record<string, unknown>}[]
}

export default class Validate extends RtdCommand<ValidateResult> {
  static override summary = 'Check a pipeline without running it.'

  static override description = `Resolves extends, \${env:VAR} and overrides, loads the pipeline's plugins and validates everything against the schema. Every issue is reported at once with file:line:col, the YAML path and, for unknown names, the closest valid one. A pipeline with a \`sweep:\` section has each variant validated; issues name their variant and the sweep entry that caused them. Writes nothing.

Exit status: 0 valid, 2 invalid.`

  static override examples = [
    '<%= config.bin %> validate pipelines/tiny-gdes.yaml',
    '<%= config.bin %> validate pipelines/tiny-gdes.yaml schedule.batch_size=16 --print',
    '<%= config.bin %> validate pipelines/tiny-gdes.yaml --json',
  ]

  static override strict = false

  static override args = pipelineArgs

  static override flags = {
    print: Flags.boolean({summary: 'Print the resolved pipeline (defaults filled in, overrides applied) as YAML.'}),
  }

  async run(): Promise<ValidateResult> {
    const {argv, flags} = await this.parse(Validate)
    const {pipeline: file, overrides} = splitPipelineArgv(argv)
    const {base: resolved, variants} = await loadSweep({file, overrides})
    const pipeline = orderPipeline({value: resolved.value, registry: resolved.registry})
    if (variants !== undefined) {
      const invalid = sweepInvalid({file: displayPath(resolved.file, process.cwd()), variants})
      if (invalid !== undefined) throw invalid
      const out = variants.map((v) => ({name: v.variant.name, overrides: v.variant.overrides, pipeline: orderPipeline({value: v.pipeline!.value, registry: v.pipeline!.registry})}))
      if (flags.print) this.log(stringify(Object.fromEntries(out.map((v) => [v.name, v.pipeline]))).trimEnd())
      else this.log(`${file}: valid (${resolved.value.name}; sweep of ${out.length} variants: ${out.map((v) => v.name).join(', ')})`)
      return {valid: true, file: resolved.file, pipeline, variants: out}
    }
    if (flags.print) {
      this.log(stringify(pipeline).trimEnd())
    } else {
      const stages = STAGE_KINDS.flatMap((k) => stageEntries(resolved.value, k).map((e) => `${k}=${e.stage.plugin}`))
      this.log(`${file}: valid (${resolved.value.name}; ${stages.join(', ')})`)
    }
    return {valid: true, file: resolved.file, pipeline}
  }
}
