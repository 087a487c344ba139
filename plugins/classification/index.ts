/** The `classification` finetune plugin: sequence classification on a pretrained (or randomly initialised) encoder. */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import schema from './schema.json' with {type: 'json'}
import type {ClassificationOptions} from './classification-stage.js'

export const plugin: RtdPlugin<ClassificationOptions> = {
  name: 'classification',
  kind: 'finetune',
  summary: 'Fine-tune the exported encoder (or any HF folder) for sequence classification, several seeds; accuracy, macro-F1, loss; HF *ForSequenceClassification export',
  schema,
  check(options, pipeline) {
    const problems = []
    if (options.from === 'run' && pipeline.model === undefined) {
      problems.push({path: 'finetune', message: '`from: run` fine-tunes the model this pipeline trains, but the pipeline has no model stage; set `from` to a model folder or hub id.'})
    }
    const tasks = (pipeline.finetune ?? []) as {name?: string}[]
    const same = tasks.filter((t) => (t.name ?? 'classification') === options.name)
    if (same.length > 1) problems.push({path: 'finetune', message: `two fine-tuning tasks are named \`${options.name}\`; give each a distinct \`name\` (it names its metrics and folder).`})
    return problems
  },
  // lazy: the implementation pulls TensorFlow.js
  create: async (options, ctx) => (await import('./classification-stage.js')).createClassificationStage(options, ctx),
}

export default plugin
