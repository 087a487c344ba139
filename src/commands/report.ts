import * as path from 'node:path'

import {Args, Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {writeReport, type WriteReportResult} from '../report/build-report.js'
import {watchReport} from '../report/watch-report.js'

export default class Report extends RtdCommand<WriteReportResult & {writes?: number}> {
  static override summary = 'Plots and tables of one or more runs as one self-contained HTML file.'

  static override description = `Reads each run directory's metrics.jsonl, resolved.yaml and samples.json and writes one HTML file with no external resources: train loss (total, MLM, RTD), learning rate, lambda, gradient norm and tokens/s over steps, every evaluation metric over steps, the embedding diagnostics (E_G/E_D similarity, table norms, which loss sends gradient into which table), several runs overlaid one colour each, a table of final metrics, the differences between the runs' resolved pipelines, and held-out sequences shaded by the discriminator's replaced-probability. Each plot is also written as SVG and PNG into <output>-plots/ beside the HTML.

With --watch it rewrites the report whenever a run's metrics change, until no run is running any more (or Ctrl-C). \`rtd run\` itself keeps <run-dir>/report.html up to date after evaluations (at most one rewrite every 2 minutes) and at the end.

Exit status: 0 done, 2 usage (not a run directory).`

  static override examples = [
    '<%= config.bin %> report runs/tiny-gdes-20250101-120000',
    '<%= config.bin %> report runs/tiny-gdes-* runs/tiny-es-* -o ablation.html',
    '<%= config.bin %> report runs/tiny-gdes-20250101-120000 --watch',
  ]

  static override strict = false

  static override args = {
    runDir: Args.string({required: true, description: 'Run directories (printed by `rtd run`); several are overlaid.'}),
  }

  static override flags = {
    output: Flags.string({char: 'o', summary: 'HTML file to write. Default: report.html in the run directory (one run) or in the working directory (several).'}),
    samples: Flags.integer({min: 0, default: 4, summary: 'Held-out sequences shown per run (what the discriminator sees).'}),
    watch: Flags.boolean({summary: 'Rewrite the report whenever a run\'s metrics change, until no run is running.'}),
    interval: Flags.integer({min: 100, default: 2000, summary: 'With --watch: how often to look for changes, in ms.'}),
    'no-plot-files': Flags.boolean({summary: 'Write only the HTML file, not the SVG/PNG of each plot.'}),
  }

  async run(): Promise<WriteReportResult & {writes?: number}> {
    const {argv, flags} = await this.parse(Report)
    const runDirs = argv as string[]
    const output = flags.output ?? (runDirs.length === 1 ? path.join(runDirs[0], 'report.html') : 'report.html')
    const opts = {runDirs, output, samples: flags.samples, plotFiles: !flags['no-plot-files']}
    const show = (r: WriteReportResult) => {
      this.log(`wrote ${path.relative(process.cwd(), r.output) || r.output}${r.plotsDir ? ` and ${r.files.length - 1} plot files in ${path.relative(process.cwd(), r.plotsDir)}` : ''}`)
      if (r.pngSkipped) this.note(`no PNG files: ${r.pngSkipped}`)
    }
    if (!flags.watch) {
      const r = await writeReport(opts)
      show(r)
      return r
    }
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    let last: WriteReportResult | undefined
    try {
      const writes = await watchReport({...opts, intervalMs: flags.interval, signal: controller.signal, onWrite: (r) => ((last = r), show(r))})
      return {...last!, writes}
    } finally {
      process.off('SIGINT', stop)
    }
  }
}
