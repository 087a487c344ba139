/**
 * DeBERTa-v2/v3 embeddings (SPEC B.2.1; HF DebertaV2Embeddings): word (+ absolute position when
 * position_biased_input) (+ token type when type_vocab_size > 0), optional `embed_proj`
 * (embedding_size → hidden, no bias), LayerNorm, padding rows zeroed after the LayerNorm, dropout.
 *
 * Table sharing with a generator (SPEC B.6): `es` reads the generator's tables themselves (the RTD
 * gradient reaches them: tug of war); `gdes` reads stopgrad(E_G) + E_Δ, where E_Δ is this model's
 * `word_embeddings._weight` (zero at the start of training). The sum is formed after the
 * gather, so the [V, emb] table E_G + E_Δ is never materialised.
 */
import * as tf from '#tfjs'
import type {DebertaConfig} from './config.js'
import {dropout, layerNorm, linear, type ForwardContext} from './nn.js'
import type {ParamStore} from './params.js'
import {withoutGradient} from './stop-gradient.js'
import type {TiedTable} from './tied-table.js'
import type {SharedTable, TableShare} from './architecture.js'

export {EMBEDDING_SHARING, type EmbeddingSharing} from './embedding-sharing.js'

/** A table that is this model's own, the source's (es), or stopgrad(source) + own delta (gdes). */
export interface TableRef {
  own?: tf.Variable
  source?: tf.Variable
  mode: 'own' | 'es' | 'gdes'
}

export class Embeddings {
  readonly word: TableRef
  readonly position?: TableRef
  private readonly tokenType?: tf.Variable
  private readonly proj?: tf.Variable
  private readonly lnWeight: tf.Variable
  private readonly lnBias: tf.Variable
  /** Set by a model whose decoder reads the own word table too (MlmModel): its lookup then goes through it. */
  tie?: TiedTable

  /**
   * @param opts.share when given, word (and position, when both models have one) tables are
   *   shared with the generator's in mode `es` or `gdes`; default: own tables (nes, or a plain model).
   */
  constructor(readonly opts: {config: DebertaConfig; params: ParamStore; prefix: string; share?: TableShare}) {
    const {config: c, params: p, prefix, share} = opts
    const emb = c.embeddingSize
    this.word = makeTable(p, `${prefix}.word_embeddings`, [c.vocabSize, emb], share?.mode, share?.tables.word)
    if (c.positionBiasedInput) {
      const src = share?.tables.position
      this.position = makeTable(p, `${prefix}.position_embeddings`, [c.maxPositionEmbeddings, emb], src ? share?.mode : undefined, src)
    }
    if (c.typeVocabSize > 0) this.tokenType = p.create(`${prefix}.token_type_embeddings.weight`, [c.typeVocabSize, emb], 'normal')
    if (emb !== c.hiddenSize) this.proj = p.create(`${prefix}.embed_proj.weight`, [c.hiddenSize, emb], 'normal')
    this.lnWeight = p.create(`${prefix}.LayerNorm.weight`, [c.hiddenSize], 'ones')
    this.lnBias = p.create(`${prefix}.LayerNorm.bias`, [c.hiddenSize], 'zeros')
  }

  /** The variable holding this model's effective word table, when it owns one (own/nes). */
  wordTable(): tf.Variable {
    const t = this.word.mode === 'own' ? this.word.own : this.word.source
    if (t === undefined) throw new Error('word table missing')
    return t
  }

  /** The tables read from a generator (word, then position), for the objective's export and loading. */
  sharedTables(): SharedTable[] {
    const out: SharedTable[] = []
    const prefix = this.opts.prefix
    for (const [name, ref, hf] of [['word', this.word, 'word_embeddings'], ['position', this.position, 'position_embeddings']] as const) {
      if (ref === undefined || ref.mode === 'own' || ref.source === undefined) continue
      out.push({name, hfName: `${prefix}.${hf}.weight`, mode: ref.mode, source: ref.source, ...(ref.own ? {delta: ref.own, deltaName: `${prefix}.${hf}._weight`} : {})})
    }
    return out
  }

  positionTable(): tf.Variable {
    const t = this.position?.mode === 'own' ? this.position.own : this.position?.source
    if (t === undefined) throw new Error('position table missing')
    return t
  }

  /**
   * @param inputIds int32 [B, N]; @param mask float32 [B, N] (1 = token, 0 = pad);
   * @param tokenTypeIds int32 [B, N], default zeros. Returns [B·N, H].
   */
  apply(opts: {inputIds: tf.Tensor2D; mask: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; ctx: ForwardContext}): tf.Tensor2D {
    const c = this.opts.config
    const [B, N] = opts.inputIds.shape
    if (c.positionBiasedInput && N > c.maxPositionEmbeddings) {
      throw new Error(`sequence length ${N} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`)
    }
    return tf.tidy(() => {
      const ids = tf.reshape(opts.inputIds, [B * N]) as tf.Tensor1D // [B·N]
      const tied = this.tie !== undefined && this.word.mode === 'own' && this.tie.table === this.word.own
      let e: tf.Tensor = tied ? this.tie!.lookup(ids) : lookupTable(this.word, ids) // [B·N, emb]
      if (this.position) {
        const pos = lookupTable(this.position, tf.range(0, N, 1, 'int32') as tf.Tensor1D) // [N, emb]
        e = tf.reshape(tf.add(tf.reshape(e, [B, N, -1]), pos), [B * N, -1])
      }
      if (this.tokenType) {
        const tt = opts.tokenTypeIds ? tf.reshape(opts.tokenTypeIds, [B * N]) : tf.zeros([B * N], 'int32')
        e = tf.add(e, tf.gather(this.tokenType, tt))
      }
      if (this.proj) e = linear(e as tf.Tensor2D, this.proj) // [B·N, H]
      e = layerNorm(e, this.lnWeight, this.lnBias, c.layerNormEps)
      e = tf.mul(e, tf.reshape(opts.mask, [B * N, 1])) // zero the padding rows after the LayerNorm
      return dropout(e as tf.Tensor2D, c.hiddenDropoutProb, opts.ctx)
    })
  }
}

/** A table `prefix.weight` of its own, or shared with `source` (es; gdes with a zero-init delta `prefix._weight`). */
export function makeTable(p: ParamStore, prefix: string, shape: number[], mode: 'es' | 'gdes' | undefined, source: tf.Variable | undefined): TableRef {
  if (mode === undefined || source === undefined) return {mode: 'own', own: p.create(`${prefix}.weight`, shape, 'normal')}
  if (source.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`cannot share ${prefix}: generator table ${JSON.stringify(source.shape)} vs discriminator ${JSON.stringify(shape)}`)
  }
  if (mode === 'es') return {mode, source}
  return {mode, source, own: p.create(`${prefix}._weight`, shape, 'zeros')} // E_Δ starts at 0
}

/**
 * Rows `ids` of a [V, emb] table: [K] → [K, emb], with the gradient written as one
 * UnsortedSegmentSum into a single dense [V, emb] tensor. tf.gather's own gradient also saves
 * the table and wraps the sum in two (identity-permutation) transposes, each a [V, emb] copy on
 * wasm; the values are the same (the same kernel sums the same rows in the same order).
 */
export function gatherRows(table: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  if (!tf.engine().isTapeOn()) return tf.gather(table, ids) as tf.Tensor2D
  const rows = table.shape[0]!
  const op = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([ids])
    return {
      value: tf.gather(x, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, rows)],
    }
  }) as never) as (x: tf.Tensor) => tf.Tensor2D
  return op(table)
}

/** Rows `ids` of a table: [K] → [K, emb]. */
export function lookupTable(t: TableRef, ids: tf.Tensor1D): tf.Tensor2D {
  if (t.mode === 'own') return gatherRows(t.own!, ids)
  if (t.mode === 'es') return gatherRows(t.source!, ids)
  // GDES: gather(stopgrad(E_G)) + gather(E_Δ) == gather(stopgrad(E_G) + E_Δ), bit for bit; the
  // stop-gradient cuts the gathered [K, emb] rows, so no [V, emb] tensor is made for E_G here.
  const fromG = withoutGradient(() => tf.gather(t.source!, ids) as tf.Tensor2D)
  return tf.add(fromG, gatherRows(t.own!, ids)) as tf.Tensor2D
}
