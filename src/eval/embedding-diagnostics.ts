/**
 * Embedding-sharing diagnostics (issue 12, after the DeBERTaV3 paper's embedding analysis): the
 * row-wise cosine similarity of the generator's and the discriminator's word tables, their
 * norms, and the norm of the gradient a loss sends into each table.
 */
import * as tf from '#tfjs'

/** Mean and median of the finite values (rows of zero norm have no cosine). */
function meanMedian(values: Float32Array): {mean: number; median: number} {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return {mean: NaN, median: NaN}
  const mid = v.length >> 1
  return {mean: v.reduce((s, x) => s + x, 0) / v.length, median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2}
}

/**
 * emb_cos_mean / emb_cos_median: cosine between row i of E_G and row i of E_D over all rows;
 * emb_norm_g, emb_norm_d (and emb_norm_delta under GDES): Frobenius norms. E_D is E_G + E_Δ
 * under GDES, E_G itself under ES, the discriminator's own table under NES.
 */
export async function embeddingTableStats(t: {generator: tf.Tensor; delta?: tf.Tensor; discriminator?: tf.Tensor}): Promise<Record<string, number>> {
  const [cos, norms] = tf.tidy(() => {
    const g = t.generator as tf.Tensor2D
    const d = (t.delta ? tf.add(g, t.delta) : (t.discriminator ?? g)) as tf.Tensor2D
    const rowNorm = (x: tf.Tensor2D) => tf.sqrt(tf.sum(tf.square(x), 1))
    const c = tf.div(tf.sum(tf.mul(g, d), 1), tf.mul(rowNorm(g), rowNorm(d)))
    const frob = (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x)))
    return [c, tf.stack([frob(g), frob(d), t.delta ? frob(t.delta) : tf.scalar(NaN)])]
  })
  try {
    // async reads: the webgpu backend cannot read synchronously
    const {mean, median} = meanMedian((await cos.data()) as Float32Array)
    const [ng, nd, ndelta] = await norms.data()
    return {emb_cos_mean: mean, emb_cos_median: median, emb_norm_g: ng, emb_norm_d: nd, ...(t.delta ? {emb_norm_delta: ndelta} : {})}
  } finally {
    tf.dispose([cos, norms])
  }
}

/**
 * The L2 norm of d loss / d table for each named table; exactly 0 for a table the loss does not
 * reach (tf.variableGrads returns no gradient for it).
 */
export async function gradientNorms(loss: () => tf.Scalar, tables: Record<string, tf.Variable>): Promise<Record<string, number>> {
  const names = Object.keys(tables)
  const {value, grads} = tf.variableGrads(loss, names.map((n) => tables[n]))
  try {
    const out: Record<string, number> = {}
    for (const n of names) {
      const g = grads[tables[n].name]
      if (!g) {
        out[n] = 0
        continue
      }
      const norm = tf.tidy(() => tf.sqrt(tf.sum(tf.square(g))))
      out[n] = (await norm.data())[0]!
      norm.dispose()
    }
    return out
  } finally {
    value.dispose()
    tf.dispose(Object.values(grads))
  }
}

/** The Frobenius norm of a tensor. */
export async function frobeniusNorm(t: tf.Tensor): Promise<number> {
  const n = tf.tidy(() => tf.sqrt(tf.sum(tf.square(t))))
  try {
    // async: webgpu cannot read synchronously in Node
    return (await n.data())[0]
  } finally {
    n.dispose()
  }
}
