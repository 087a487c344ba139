/**
 * The gdes and mlm schema fragments list exactly the closed sets the code declares (STYLE 13),
 * share their `mask` section through one fragment (src/pipeline/shared-fragments.ts) instead of
 * copies (their `config` is the architecture plugin's schema), and the standalone files under
 * schemas/ have the fragments inlined for editors.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {expect} from 'chai'

import {MASK_RECIPES} from '../../src/data/masking.js'
import {EMBEDDING_SHARING} from '../../src/model/index.js'
import {pipelineValidator} from '../../src/pipeline/validate-pipeline.js'
import {fragmentId, inlineFragments, SHARED_FRAGMENTS} from '../../src/pipeline/shared-fragments.js'
import {PluginRegistry} from '../../src/plugin/registry.js'
import gdes from '../../plugins/gdes/index.js'
import mlm from '../../plugins/mlm/index.js'
import debertaV3 from '../../plugins/deberta-v3/index.js'

type Props = Record<string, {enum?: string[]; $ref?: string; properties?: Props}>
const props = (schema: unknown): Props => (schema as {properties: Props}).properties
const ROOT = path.resolve(import.meta.dirname, '..', '..')

describe('model plugin schemas', () => {
  it('offer exactly the embedding sharing modes of the model code', () => {
    expect(props(gdes.schema).embedding_sharing.enum).to.deep.equal([...EMBEDDING_SHARING])
  })

  it('share one masking fragment, which offers exactly the masking recipes of the data code', () => {
    for (const plugin of [gdes, mlm]) {
      expect(props(plugin.schema).mask.$ref, plugin.name).to.equal(fragmentId('masking'))
      expect(props(inlineFragments(plugin.schema)).mask.properties!.recipe.enum, plugin.name).to.deep.equal([...MASK_RECIPES])
    }
  })

  it('fill in and check the shared mask section through the $ref (and config through the architecture)', () => {
    const validate = pipelineValidator(new PluginRegistry())
    const value = {name: 'x', model: {plugin: 'mlm', config: {hidden_size: 64}}} as {name: string; model: Record<string, any>}
    expect(validate(value)).to.equal(true)
    expect(value.model.mask).to.deep.equal({rate: 0.15, recipe: 'all-mask'})
    expect(value.model.config.num_hidden_layers).to.equal(4)
    expect(validate({name: 'x', model: {plugin: 'gdes', config: {hidden_size: 64}, mask: {recipe: 'bert'}}})).to.equal(false)
    expect(validate({name: 'x', model: {plugin: 'gdes', config: {hidden_size: 64, hiden: 1}}})).to.equal(false)
  })

  it('are inlined in the generated schemas/ files, which refer to no fragment', () => {
    for (const file of ['pipeline.schema.json', 'plugins/model-gdes.schema.json', 'plugins/model-mlm.schema.json']) {
      const text = fs.readFileSync(path.join(ROOT, 'schemas', file), 'utf8')
      for (const id of SHARED_FRAGMENTS.keys()) expect(text, file).not.to.include(id)
      expect(text, file).to.include('"80-10-10"')
    }
  })

  it('the deberta-v3 architecture rejects a scratch config whose heads do not divide the width, before any work', () => {
    const problems = debertaV3.check!({hidden_size: 100, num_attention_heads: 3, max_position_embeddings: 128}, {data: {max_length: 64}})
    expect(problems.map((p) => p.path)).to.deep.equal(['model.config.num_attention_heads'])
  })

  it('reject `from` together with `config`', async () => {
    for (const plugin of [gdes, mlm]) {
      const problems = await plugin.check!({from: 'microsoft/deberta-v3-xsmall', config: {hidden_size: 64}} as never, {})
      expect(problems.map((p) => p.path), plugin.name).to.deep.equal(['model.config'])
    }
  })
})
