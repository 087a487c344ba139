/**
 * The built-in plugins. To add one: create plugins/<name>/ (schema.json, index.ts exporting
 * the RtdPlugin, implementation) and add it to this list. Only real, working plugins belong
 * here; `rtd plugins`, `rtd schema` and schemas/pipeline.schema.json are built from it.
 */
import type {RtdPlugin} from '../src/plugin/contract.js'
import evaluation from './evaluation/index.js'
import gdes from './gdes/index.js'
import mlm from './mlm/index.js'
import text from './text/index.js'

export const builtinPlugins: readonly RtdPlugin<any>[] = [text, gdes, mlm, evaluation]
