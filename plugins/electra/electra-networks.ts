/** The electra architecture's networks: src/model/electra's ELECTRA classes behind the architecture contract. */
import type * as tf from '#tfjs'
import type {ArchitectureNetworks, DiscriminatorNet, EncoderInputs, EncoderNet, EncoderOutput, HostTensorLike, MaskedLmNet, SharedTable, TableName, TableShare} from '../../src/plugin/architecture.js'
import type {ElectraConfig} from '../../src/model/electra/config.js'
import {ElectraDiscriminator} from '../../src/model/electra/discriminator.js'
import {ELECTRA_SHARED_TABLES, type ElectraTableName} from '../../src/model/electra/embeddings.js'
import {ElectraModel} from '../../src/model/electra/electra-model.js'
import {isDocumentedElectraExtra, withElectraPrefix} from '../../src/model/electra/hf-names.js'
import {ElectraMlmModel} from '../../src/model/electra/mlm-model.js'
import {loadIntoStore, toHost} from '../../src/model/hf-tensors.js'
import {ParamStore} from '../../src/model/params.js'
import {ConfigError} from '../../src/errors.js'
import {electraConfigs} from './electra-configs.js'

/** The contract's table names <-> ELECTRA's HF module names. */
const TABLE_OF: Record<ElectraTableName, TableName> = {word_embeddings: 'word', position_embeddings: 'position', token_type_embeddings: 'token_type'}

class ElectraMaskedLm extends ElectraMlmModel implements MaskedLmNet<ElectraConfig> {
  /** ELECTRA shares all three embedding tables. */
  embeddingTables(): Partial<Record<TableName, tf.Variable>> {
    const e = this.electra.embeddings
    return Object.fromEntries(ELECTRA_SHARED_TABLES.map((n) => [TABLE_OF[n], e.table(n)]))
  }
}

/** The [rows, embedding_size] of each table under ELECTRA's config names. */
const TABLE_ROWS: Record<TableName, {rows: (c: ElectraConfig) => number; field: string}> = {
  word: {rows: (c) => c.vocabSize, field: 'vocab'},
  position: {rows: (c) => c.maxPositionEmbeddings, field: 'positions'},
  token_type: {rows: (c) => c.typeVocabSize, field: 'token types'},
}

/** Sharing reads the generator's tables as the discriminator's own: every shared table must have the discriminator's shape. */
function checkSharedShapes(config: ElectraConfig, share: TableShare): void {
  const wrong = (Object.keys(TABLE_ROWS) as TableName[]).flatMap((n) => {
    const t = share.tables[n]
    const want = [TABLE_ROWS[n].rows(config), config.embeddingSize]
    return t === undefined || (t.shape[0] === want[0] && t.shape[1] === want[1]) ? [] : [`${TABLE_ROWS[n].field} ${t.shape[0]} x ${t.shape[1]} vs ${want[0]} x ${want[1]}`]
  })
  if (wrong.length > 0) {
    throw new ConfigError(`embedding sharing ${share.mode} needs equal embedding tables, got generator vs discriminator: ${wrong.join(', ')}`, {
      code: 'model.sharing_shape',
      suggestions: ['use the same vocab_size, max_position_embeddings, type_vocab_size and embedding_size for both, or sharing: nes'],
    })
  }
}

class ElectraDiscriminatorNet extends ElectraDiscriminator implements DiscriminatorNet<ElectraConfig> {
  constructor(opts: {config: ElectraConfig; seed: number; share?: TableShare}) {
    const {share} = opts
    if (share) checkSharedShapes(opts.config, share)
    super({config: opts.config, seed: opts.seed, ...(share ? {share: {mode: share.mode, source: {table: (n: ElectraTableName) => share.tables[TABLE_OF[n]]}}} : {})})
  }

  sharedTables(): SharedTable[] {
    const out: SharedTable[] = []
    for (const n of ELECTRA_SHARED_TABLES) {
      const ref = this.electra.embeddings.tables[n]
      if (ref.mode === 'own' || ref.source === undefined) continue
      out.push({name: TABLE_OF[n], hfName: `electra.embeddings.${n}.weight`, mode: ref.mode, source: ref.source, ...(ref.own ? {delta: ref.own, deltaName: `electra.embeddings.${n}._weight`} : {})})
    }
    return out
  }

  ownTables(): Partial<Record<TableName, tf.Variable>> {
    const t = this.electra.embeddings.tables
    return Object.fromEntries(ELECTRA_SHARED_TABLES.filter((n) => t[n].mode === 'own').map((n) => [TABLE_OF[n], t[n].own!]))
  }

  canonicalNames<T>(tensors: Map<string, T>): Map<string, T> {
    return withElectraPrefix(tensors)
  }

  loadTensors(tensors: Map<string, HostTensorLike>, opts: {ignore?: (name: string) => boolean} = {}): string[] {
    return loadIntoStore({store: this.params, tensors, role: 'discriminator', isDocumentedExtra: (k) => isDocumentedElectraExtra(k, 'discriminator') || (opts.ignore?.(k) ?? false)})
  }

  dispose(): void {
    this.params.dispose()
  }
}

/** HF ElectraModel: the bare encoder, for heads such as fine-tuning. */
class ElectraEncoder implements EncoderNet<ElectraConfig> {
  readonly params: ParamStore
  readonly electra: ElectraModel

  constructor(readonly opts: {config: ElectraConfig; seed: number; role?: string}) {
    this.params = new ParamStore({role: opts.role ?? 'encoder', seed: opts.seed, std: opts.config.initializerRange})
    this.electra = new ElectraModel({config: opts.config, params: this.params})
  }

  get config(): ElectraConfig {
    return this.opts.config
  }

  apply(inputs: EncoderInputs): EncoderOutput {
    return this.electra.apply(inputs)
  }

  variables(): tf.Variable[] {
    return [...this.params.vars.values()]
  }

  /** `electra.*` tensors of any ELECTRA checkpoint; heads and GDES deltas are ignored with a note. */
  loadTensors(tensors: Map<string, HostTensorLike>): string[] {
    const isHead = (k: string) => /^(generator_predictions|generator_lm_head|discriminator_predictions)\./.test(k) || k.endsWith('._weight')
    return loadIntoStore({store: this.params, tensors: withElectraPrefix(tensors), role: 'encoder', isDocumentedExtra: (k) => isHead(k) || isDocumentedElectraExtra(k, 'generator')})
  }

  exportTensors(): Map<string, HostTensorLike> {
    return new Map([...this.params.vars].map(([k, v]) => [k, toHost(v)]))
  }

  dispose(): void {
    this.params.dispose()
  }
}

export const architecture: ArchitectureNetworks<ElectraConfig, ElectraMaskedLm, ElectraDiscriminatorNet> = {
  name: 'electra',
  module: import.meta.url,
  configs: electraConfigs,
  hfArchitectures: {encoder: 'ElectraModel', maskedLm: 'ElectraForMaskedLM', discriminator: 'ElectraForPreTraining'},
  createEncoder: (opts) => new ElectraEncoder(opts),
  createMaskedLm: (opts) => new ElectraMaskedLm(opts),
  createDiscriminator: (opts) => new ElectraDiscriminatorNet(opts),
}
