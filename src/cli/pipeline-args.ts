import {Args} from '@oclif/core'

/** The positional arguments shared by `run` and `validate`: a pipeline, then overrides. */
export const pipelineArgs = {
  pipeline: Args.string({required: true, description: 'Pipeline YAML file.'}),
  overrides: Args.string({description: 'Any number of `key.path=value` (typed by the schema) or `~key.path` (delete).'}),
}

/** With `strict = false`, oclif leaves every positional in argv: the first is the pipeline. */
export function splitPipelineArgv(argv: unknown[]): {pipeline: string; overrides: string[]} {
  const [pipeline, ...overrides] = argv.map(String)
  return {pipeline, overrides}
}
