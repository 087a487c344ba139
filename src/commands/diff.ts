import {Args} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {diffRuns, formatRunDiff, type RunDiff} from '../report/diff-runs.js'

export default class Diff extends RtdCommand<RunDiff> {
  static override summary = 'What differs between two runs: config, data, environment, metrics.'

  static override description = `Compares two run directories: the resolved pipelines key by key, the data (whether both trained on the same shards: the shard cache key), the environment (rtd, Node and TensorFlow.js versions, backend, machine, git commit) and the metrics at the steps both runs logged (every common evaluation, and the last common training step with the largest difference over all common steps).

Exit status: 0 done, 2 usage (not a run directory).`

  static override examples = ['<%= config.bin %> diff runs/tiny-gdes-20250101-120000 runs/tiny-es-20250101-130000', '<%= config.bin %> diff runs/a runs/b --json']

  static override args = {
    a: Args.string({required: true, description: 'First run directory.'}),
    b: Args.string({required: true, description: 'Second run directory.'}),
  }

  async run(): Promise<RunDiff> {
    const {args} = await this.parse(Diff)
    const d = diffRuns(args.a, args.b)
    this.log(formatRunDiff(d))
    return d
  }
}
