import {ConfigError} from '../errors.js'
import {formatOrigin, type Origin} from './origins.js'

/** Stable issue codes; one per kind of problem a pipeline can have. */
export const ISSUE_CODES = [
  'yaml.syntax',
  'yaml.unsupported',
  'yaml.limit',
  'extends.missing',
  'extends.cycle',
  'env.missing',
  'override.syntax',
  'override.path',
  'plugin.load',
  'plugin.unknown',
  'plugin.check',
  'schema.unknown_key',
  'schema.required',
  'schema.type',
  'schema.enum',
  'schema.range',
  'schema.format',
  'schema.constraint',
] as const
export type IssueCode = (typeof ISSUE_CODES)[number]

/** One problem in a pipeline, located where it was written. */
export interface PipelineIssue {
  code: IssueCode
  /** YAML path of the offending value, e.g. `schedule.optimizer.lr`. */
  path: string
  /** What is wrong, with the value that was given and what is expected. */
  message: string
  origin?: Origin
  /** For unknown keys and plugin names: the closest valid name. */
  didYouMean?: string
}

/** `file:line:col: path: message (did you mean `x`?)`, one line. */
export function formatIssue(issue: PipelineIssue): string {
  const hint = issue.didYouMean === undefined ? '' : `; did you mean \`${issue.didYouMean}\`?`
  return `${formatOrigin(issue.origin)}: ${issue.path}: ${issue.message}${hint}`
}

/** Issues sorted by file, then line and column; command line overrides last. */
export function sortIssues(issues: PipelineIssue[]): PipelineIssue[] {
  const rank = (i: PipelineIssue): [number, string, number, number] => {
    const o = i.origin
    if (o === undefined) return [2, '', 0, 0]
    if (o.kind === 'override') return [1, o.text, 0, 0]
    return [0, o.file, o.line, o.col]
  }
  return [...issues].sort((a, b) => {
    const ra = rank(a)
    const rb = rank(b)
    for (let i = 0; i < ra.length; i++) {
      if (ra[i] < rb[i]) return -1
      if (ra[i] > rb[i]) return 1
    }
    return 0
  })
}

/** An invalid pipeline: every issue found, in one error. Exit status 2. */
export class PipelineInvalid extends ConfigError {
  readonly issues: PipelineIssue[]

  constructor(params: {file: string; issues: PipelineIssue[]}) {
    const issues = sortIssues(params.issues)
    const n = issues.length
    const lines = issues.map((i) => `  ${formatIssue(i)}`)
    super(`${params.file} is not a valid pipeline (${n} issue${n === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      code: 'pipeline.invalid',
      suggestions: ['Fix the issues above; `rtd plugins` lists every plugin and its options, `rtd schema` prints the schema.'],
    })
    this.issues = issues
  }
}
