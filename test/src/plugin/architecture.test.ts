/**
 * The `architecture` plugin kind (src/plugin/architecture.ts): how a pipeline names one, how its
 * schema checks `model.config`, what the registry accepts, and that a checkpoint of another
 * architecture is refused before any tensor exists.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {loadPipeline} from '../../../src/pipeline/load-pipeline.js'
import {formatIssue, PipelineInvalid} from '../../../src/pipeline/pipeline-issue.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import {validatePlugin} from '../../../src/plugin/validate-plugin.js'
import {modelConfig} from '../../../src/pretrain/build-models.js'
import debertaV3 from '../../../plugins/deberta-v3/index.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const tiny = path.join(root, 'pipelines', 'tiny-gdes.yaml')

async function issuesOf(overrides: string[]): Promise<string[]> {
  try {
    await loadPipeline({file: tiny, cwd: root, env: {}, cpuCount: 2, overrides})
  } catch (error) {
    if (error instanceof PipelineInvalid) return error.issues.map(formatIssue)
    throw error
  }
  throw new Error('unexpectedly valid')
}

describe('architecture plugins', () => {
  it('default to deberta-v3, whose schema fills in model.config', async () => {
    const {value} = await loadPipeline({file: tiny, cwd: root, env: {}, cpuCount: 2, overrides: ['~model.config.position_buckets']})
    expect(value.model.architecture).to.equal('deberta-v3')
    expect(value.model.config.position_buckets).to.equal(256) // the architecture's default, not the model plugin's
  })

  it('leave every pipeline in pipelines/ valid, on deberta-v3 but tiny-electra', async () => {
    const files = fs.readdirSync(path.join(root, 'pipelines')).filter((f) => f.endsWith('.yaml'))
    expect(files.length).to.be.greaterThan(5)
    for (const f of files) {
      const {value} = await loadPipeline({file: path.join(root, 'pipelines', f), cwd: root, env: {}, cpuCount: 2})
      expect(value.model.architecture, f).to.equal(f === 'tiny-electra.yaml' ? 'electra' : 'deberta-v3')
    }
  })

  it('report an unknown architecture with the known ones and a suggestion', async () => {
    const issues = await issuesOf(['model.architecture=deberta-v4'])
    expect(issues).to.have.length(1)
    expect(issues[0]).to.match(/model\.architecture: unknown architecture `deberta-v4`; available architectures: deberta-v3, electra.*did you mean `deberta-v3`/)
  })

  it('check model.config with the schema of the architecture the pipeline names', async () => {
    // electra has no relative positions: tiny-gdes's position_buckets is an unknown key there
    expect((await issuesOf(['model.architecture=electra'])).join('\n')).to.match(/model\.config\.position_buckets: unknown key/)
    const {value} = await loadPipeline({file: tiny, cwd: root, env: {}, cpuCount: 2, overrides: ['model.architecture=electra', '~model.config.position_buckets']})
    expect(value.model.config).to.include({embedding_size: 128, type_vocab_size: 2, hidden_size: 128})
  })

  it('check model.config with the architecture\'s schema and cross-field rules', async () => {
    expect((await issuesOf(['model.config.position_bucketz=4'])).join('\n')).to.match(/model\.config\.position_bucketz: unknown key/)
    expect((await issuesOf(['model.config.num_attention_heads=3'])).join('\n')).to.match(/model\.config\.num_attention_heads: 3 heads do not divide hidden_size 128/)
  })

  it('are listed by the registry and found by Hugging Face model_type', () => {
    const registry = new PluginRegistry()
    expect(registry.names('architecture')).to.include.members(['deberta-v3', 'electra'])
    expect(registry.architectureForModelType('deberta-v2')?.name).to.equal('deberta-v3')
    expect(registry.architectureForModelType('electra')?.name).to.equal('electra')
    expect(registry.architectureForModelType('bert')).to.equal(undefined)
    expect(() => registry.architecture('nope')).to.throw(/unknown architecture `nope`/)
  })

  it('must provide load(), modelTypes and the config functions', () => {
    const {load: _load, ...noLoad} = debertaV3
    expect(() => validatePlugin({value: noLoad, source: 'x.mjs'})).to.throw(/load must be a function/)
    expect(() => validatePlugin({value: {...debertaV3, configs: {...debertaV3.configs, shape: 1}}, source: 'x.mjs'})).to.throw(/configs\.shape must be a function/)
    expect(validatePlugin({value: debertaV3, source: 'x.mjs'}).name).to.equal('deberta-v3')
  })

  it('refuse a `from` checkpoint of another model_type before building anything', () => {
    expect(() => modelConfig({architecture: debertaV3, folderConfig: {model_type: 'electra', hidden_size: 8}, folder: '/m', tokenizerVocabSize: 10})).to.throw(/\/m\/config\.json is a `electra` checkpoint, but model\.architecture is `deberta-v3`/)
    const c = modelConfig({architecture: debertaV3, scratch: {hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64, position_buckets: 8, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.02}, tokenizerVocabSize: 50})
    expect(debertaV3.configs.facts(c)).to.deep.equal({vocabSize: 50, embeddingSize: 16, hiddenSize: 16, numHiddenLayers: 2, maxPositions: 64, padTokenId: 0})
    expect(debertaV3.configs.shape(c)).to.include({vocab: 50, hidden: 16, layers: 2, positionBuckets: 8})
  })
})
