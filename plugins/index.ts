/**
 * The built-in plugins. To add one: create plugins/<name>/ (schema.json, index.ts exporting
 * the plugin, implementation) and add it to this list. Only real, working plugins belong
 * here; `rtd plugins`, `rtd schema` and schemas/pipeline.schema.json are built from it.
 *
 * Each index.ts is light: it imports its implementation (and with it TensorFlow.js) only inside
 * `create` / `load`, so that listing, validating and planning load no tensors code.
 */
import type {AnyPlugin} from '../src/plugin/contract.js'
import classification from './classification/index.js'
import debertaV3 from './deberta-v3/index.js'
import electra from './electra/index.js'
import evaluation from './evaluation/index.js'
import gdes from './gdes/index.js'
import mlm from './mlm/index.js'
import text from './text/index.js'

export const builtinPlugins: readonly AnyPlugin[] = [text, gdes, mlm, evaluation, classification, debertaV3, electra]
