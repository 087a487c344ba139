/**
 * ELECTRA embeddings (HF ElectraEmbeddings), names `electra.embeddings.*`:
 * e = LayerNorm(word[ids] + token_type[tt] + position[0..N-1]) over embedding_size, then dropout.
 * Unlike DeBERTa the output is not zeroed at padding, and positions are 0..N-1 in every row.
 * The word lookup has HF's padding_idx = pad_token_id: no lookup gradient into that row.
 *
 * Table sharing with the generator (GDES/ES): all three tables (word, position, token type) are
 * shared; `es` reads the generator's tables, `gdes` reads stopgrad(X_G) + X_Δ with one zero-init
 * delta `<table>._weight` per table (../embeddings.ts makeTable/lookupTable). The LayerNorm stays
 * this model's own.
 */
import * as tf from '#tfjs'
import {lookupTable, makeTable, type TableRef} from '../embeddings.js'
import {dropout, layerNorm, type ForwardContext} from '../nn.js'
import type {ParamStore} from '../params.js'
import type {TiedTable} from '../tied-table.js'
import type {ElectraConfig} from './config.js'

/** The three shared tables, by their HF module name. */
export const ELECTRA_SHARED_TABLES = ['word_embeddings', 'position_embeddings', 'token_type_embeddings'] as const
export type ElectraTableName = (typeof ELECTRA_SHARED_TABLES)[number]

export interface ElectraEmbeddingsShare {
  mode: 'es' | 'gdes'
  /** The generator's tables: its ElectraEmbeddings, or any lookup of them (the architecture contract's TableShare); undefined = not shared. */
  source: {table(name: ElectraTableName): tf.Variable | undefined}
}

export class ElectraEmbeddings {
  readonly tables: Record<ElectraTableName, TableRef>
  private readonly lnWeight: tf.Variable
  private readonly lnBias: tf.Variable
  /** Set by the generator, whose tied decoder reads the word table too: its lookup goes through it. */
  tie?: TiedTable

  constructor(readonly opts: {config: ElectraConfig; params: ParamStore; prefix: string; share?: ElectraEmbeddingsShare}) {
    const {config: c, params: p, prefix, share} = opts
    const E = c.embeddingSize
    const shapes: Record<ElectraTableName, number[]> = {
      word_embeddings: [c.vocabSize, E], // electra.embeddings.word_embeddings.weight [V, E]
      position_embeddings: [c.maxPositionEmbeddings, E], // electra.embeddings.position_embeddings.weight [P, E]
      token_type_embeddings: [c.typeVocabSize, E], // electra.embeddings.token_type_embeddings.weight [T, E]
    }
    const tables = {} as Record<ElectraTableName, TableRef>
    for (const name of ELECTRA_SHARED_TABLES) tables[name] = makeTable(p, `${prefix}.${name}`, shapes[name], share?.mode, share?.source.table(name))
    this.tables = tables
    this.lnWeight = p.create(`${prefix}.LayerNorm.weight`, [E], 'ones')
    this.lnBias = p.create(`${prefix}.LayerNorm.bias`, [E], 'zeros')
  }

  /** The variable holding table `name` as this model reads it without a delta: its own, or the shared source. */
  table(name: ElectraTableName): tf.Variable {
    const t = this.tables[name]
    const v = t.mode === 'own' ? t.own : t.source
    if (v === undefined) throw new Error(`${name} table missing`)
    return v
  }

  /** The word table (the generator's E_G, also its tied decoder). */
  wordTable(): tf.Variable {
    return this.table('word_embeddings')
  }

  /**
   * @param inputIds int32 [B, N]; @param tokenTypeIds int32 [B, N], default zeros.
   * Returns the LayerNorm'ed embeddings [B·N, E] (before embeddings_project).
   */
  apply(opts: {inputIds: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const [B, N] = opts.inputIds.shape
    if (N > c.maxPositionEmbeddings) throw new Error(`sequence length ${N} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`)
    return tf.tidy(() => {
      const ids = tf.reshape(opts.inputIds, [B * N]) as tf.Tensor1D // [B·N]
      const word = this.tables.word_embeddings
      const tied = this.tie !== undefined && word.mode === 'own' && this.tie.table === word.own
      const rows = tied ? this.tie!.lookup(ids) : lookupTable(word, ids) // [B·N, E]
      const w = withoutGradientAt(rows, tf.notEqual(ids, c.padTokenId)) // padding_idx: no lookup gradient into the pad row
      const pos = lookupTable(this.tables.position_embeddings, tf.range(0, N, 1, 'int32') as tf.Tensor1D) // [N, E]
      const tt = opts.tokenTypeIds ? (tf.reshape(opts.tokenTypeIds, [B * N]) as tf.Tensor1D) : (tf.zeros([B * N], 'int32') as tf.Tensor1D)
      const types = lookupTable(this.tables.token_type_embeddings, tt) // [B·N, E]
      // HF order: (word + token_type) + position
      const e = tf.reshape(tf.add(tf.reshape(tf.add(w, types), [B, N, -1]), pos), [B * N, -1])
      return dropout(layerNorm(e, this.lnWeight, this.lnBias, c.layerNormEps) as tf.Tensor2D, c.hiddenDropoutProb, opts.ctx)
    })
  }
}

/**
 * Identity on x [K, E]; in the backward pass the gradient of the rows where keep [K] is false is
 * zero (nn.Embedding's padding_idx: the pad row of the table gets no lookup gradient).
 */
function withoutGradientAt(x: tf.Tensor2D, keep: tf.Tensor1D): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return x
  const op = tf.customGrad(((a: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    const k = tf.reshape(tf.cast(keep, 'float32'), [-1, 1]) // [K, 1]
    save([k])
    return {value: tf.clone(a), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]!)]}
  }) as never) as (a: tf.Tensor) => tf.Tensor2D
  return op(x)
}
