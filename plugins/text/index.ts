/** The `text` data plugin: raw text -> tokenizer -> cached Arrow shards (state.data: PreparedData). */
import type {RtdPlugin} from '../../src/plugin/contract.js'
import schema from './schema.json' with {type: 'json'}
import type {TextOptions} from './text-stage.js'

export const plugin: RtdPlugin<TextOptions> = {
  name: 'text',
  kind: 'data',
  summary: 'Text from the hub, local files or nlp-corpus -> tokenizer -> cached Arrow shards with a document-level eval split',
  schema,
  preflight: async (options, ctx) => (await import('./text-preflight.js')).preflightText(options, ctx),
  plan: async (options, _pipeline, io) => (await import('./plan-text.js')).planText(options, io),
  // lazy: `rtd validate` / `rtd plugins` never load the tokenizers and Arrow code
  create: async (options, ctx) => (await import('./text-stage.js')).createTextStage(options, ctx),
}

export default plugin
