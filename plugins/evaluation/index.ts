/** The `evaluation` plugin: RTD and MLM metrics on the held-out split (SPEC A.8). */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import schema from './schema.json' with {type: 'json'}
import type {EvaluationOptions} from './evaluation-stage.js'

export const plugin: RtdPlugin<EvaluationOptions> = {
  name: 'evaluation',
  kind: 'evaluation',
  summary: 'Held-out RTD metrics (loss, accuracy, precision, recall, F1, AUC) and MLM loss/accuracy, seeded and summed over the eval set',
  schema,
  // lazy: the implementation pulls TensorFlow.js
  create: async (options, ctx) => (await import('./evaluation-stage.js')).createEvaluationStage(options, ctx),
}

export default plugin
