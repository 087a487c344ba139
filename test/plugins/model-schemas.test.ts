/** The gdes and mlm schema fragments list exactly the closed sets the code declares (STYLE 13). */
import {expect} from 'chai'

import {MASK_RECIPES} from '../../src/data/masking.js'
import {EMBEDDING_SHARING} from '../../src/model/index.js'
import gdes from '../../plugins/gdes/index.js'
import mlm from '../../plugins/mlm/index.js'
import debertaV3 from '../../plugins/deberta-v3/index.js'

type Props = Record<string, {enum?: string[]; properties?: Props}>
const props = (schema: unknown): Props => (schema as {properties: Props}).properties

describe('model plugin schemas', () => {
  it('offer exactly the embedding sharing modes of the model code', () => {
    expect(props(gdes.schema).embedding_sharing.enum).to.deep.equal([...EMBEDDING_SHARING])
  })

  it('offer exactly the masking recipes of the data code, in both plugins', () => {
    for (const plugin of [gdes, mlm]) expect(props(plugin.schema).mask.properties!.recipe.enum, plugin.name).to.deep.equal([...MASK_RECIPES])
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
