import {Args, Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {exportRun, type ExportRunResult} from '../export/export-run.js'

export default class Export extends RtdCommand<ExportRunResult> {
  static override summary = 'Export a run\'s checkpoint as Hugging Face model folders.'

  static override description = `Rebuilds the run's networks from <run-dir>/model/model.json, loads its newest complete checkpoint (or --step N) and writes what the end of training writes: <output>/<save_name>/ is the discriminator (config.json, model.safetensors with word_embeddings.weight = E_G + E_delta under GDES, mask_predictions.* head, tokenizer files) and <output>/<save_name>/generator/ the generator (lm_predictions.lm_head.*); an mlm run gives one folder. Works on interrupted and failed runs too. An earlier export at the same place is replaced.

Exit status: 0 done, 1 runtime failure (no complete checkpoint, corrupt files), 2 usage (not a run directory, no such step).`

  static override examples = [
    '<%= config.bin %> export runs/tiny-gdes-20250101-120000',
    '<%= config.bin %> export runs/tiny-gdes-20250101-120000 --step 200 --output /tmp/models',
    '<%= config.bin %> export runs/tiny-gdes-20250101-120000 --json',
  ]

  static override args = {
    runDir: Args.string({required: true, description: 'Run directory (printed by `rtd run`; holds model/model.json and checkpoints/).'}),
  }

  static override flags = {
    output: Flags.string({char: 'o', summary: 'Folder to write <save_name>/ into. Default: the run\'s output.dir.'}),
    step: Flags.integer({min: 0, summary: 'Export the checkpoint of this step. Default: the newest complete one.'}),
  }

  async run(): Promise<ExportRunResult> {
    const {args, flags} = await this.parse(Export)
    const r = await exportRun({runDir: args.runDir, output: flags.output, step: flags.step, log: (m) => this.note(m)})
    this.log(`exported step ${r.step} of ${r.runDir}`)
    for (const [k, v] of Object.entries(r.outputs)) this.log(`  ${k}: ${v}`)
    return r
  }
}
