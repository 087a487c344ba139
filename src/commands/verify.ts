import {Args, Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {RuntimeFailure} from '../errors.js'
import {MODEL_FAULTS, type ModelFault} from '../model/nn.js'
import {BACKEND_CHOICES, initBackend} from '../runtime/backend.js'
import {formatAdapter} from '../runtime/webgpu-backend.js'
import {verifyFixture, type TensorCheck, type VerifyReport} from '../verify/verify-fixture.js'

function formatCheck(c: TensorCheck): string {
  const tol = c.tolerance ? (c.tolerance.exact ? 'exact' : `atol ${c.tolerance.atol} rtol ${c.tolerance.rtol}`) : ''
  const worst = Number.isNaN(c.worstAbs) ? '-' : c.worstAbs.toExponential(2)
  const ratio = Number.isNaN(c.worstRatio) ? '' : ` (${c.worstRatio === Infinity ? 'inf' : c.worstRatio.toFixed(3)} of tolerance)`
  return `${c.status.padEnd(7)} ${c.name}  worst |err| ${worst}${ratio}  ${tol}${c.note ? `  ${c.note}` : ''}`
}

export default class Verify extends RtdCommand<VerifyReport> {
  static override summary = 'Check the model against reference tensors (e.g. fixtures/deberta-tiny).'

  static override description = `Reads a reference dump (config.json, generator_config.json, rtd.json, model.safetensors, generator.safetensors, inputs.safetensors, expected.safetensors and a README.md whose tables give atol/rtol per tensor), runs the generator and discriminator of the fixture's architecture (rtd.json "architecture", else the architecture plugin that reads config.json "model_type", e.g. deberta-v2 or electra) forward and the GDES/ES losses and gradients with the stored replacement samples, and compares every expected tensor at non-pad positions. Prints the worst error per tensor.

Exit status: 0 all tensors within tolerance, 1 any outside (or the dump is unreadable).`

  static override examples = [
    '<%= config.bin %> verify fixtures/deberta-tiny',
    '<%= config.bin %> verify fixtures/deberta-tiny --backend cpu --json',
    '<%= config.bin %> verify fixtures/electra-tiny',
  ]

  static override args = {
    dir: Args.string({required: true, description: 'Folder with the reference dump.'}),
  }

  static override flags = {
    backend: Flags.string({options: [...BACKEND_CHOICES], default: 'auto', summary: 'TensorFlow.js backend to verify on.'}),
    fault: Flags.string({options: [...MODEL_FAULTS], multiple: true, hidden: true, summary: 'Test only: run a deliberately wrong model.'}),
  }

  async run(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(Verify)
    const info = await initBackend({backend: flags.backend as (typeof BACKEND_CHOICES)[number]})
    const report = await verifyFixture({dir: args.dir, faults: flags.fault as ModelFault[] | undefined})
    for (const c of report.checks) this.log(formatCheck(c))
    for (const n of report.notes) this.note(`note: ${n}`)
    const count = (s: string) => report.checks.filter((c) => c.status === s).length
    const summary = `${count('pass')} passed, ${count('fail')} failed, ${count('missing')} missing, ${count('skipped')} skipped on ${info.backend}${info.adapter ? ` (${formatAdapter(info.adapter)})` : ''}`
    if (!report.passed) {
      const err = new RuntimeFailure(`verification of ${args.dir} failed: ${summary}`, {
        code: 'verify.failed',
        suggestions: ['a wrong bucket, a missing bias or a tanh GELU typically shows up as 1e-3..1e-1; compare the first failing tensor in forward order'],
      })
      Object.assign(err, {issues: report.checks.filter((c) => c.status === 'fail' || c.status === 'missing')})
      throw err
    }
    this.log(summary)
    return report
  }
}
