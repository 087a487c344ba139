/**
 * The export stage, run after evaluation: writes the model stage's Hugging Face folder(s)
 * (SPEC A.9) to `<output.dir>/<save_name>` with the data stage's tokenizer, and records what
 * it wrote in state.outputs. `rtd export <run-dir>` writes the same folders from a checkpoint.
 */
import type {RunState, Stage} from '../plugin/contract.js'
import type {RunContext} from '../plugin/run-context.js'

export function createExportStage(ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const model = state.model
      // a model stage of an external plugin may hand over something that does not export
      if (typeof model?.export?.write !== 'function') return
      const tokenizerDir = state.data?.tokenizerDir
      if (tokenizerDir === undefined) throw new Error('the export stage needs the data stage\'s tokenizer (state.data.tokenizerDir)')
      const written = await model.export.write({dir: model.export.dir, tokenizerDir})
      for (const [k, v] of Object.entries(written)) ctx.log.info(`exported ${k}: ${v}`)
      state.outputs = {...state.outputs, ...written, checkpoint: model.checkpoint ?? ''}
    },
  }
}
