/**
 * Evaluation metrics of RTD pretraining (SPEC A.8, B.8), accumulated over the whole eval set
 * (sums and counts, never means of batch means) from host arrays the evaluation stage reads
 * back per batch.
 *
 * Discriminator, over all non-pad tokens (mask = 1, [CLS]/[SEP] included), positive class =
 * replaced, prediction = logit > 0 (ELECTRA's rule, = sigmoid > 0.5):
 *   disc_loss (Σ BCE / tokens), disc_accuracy, disc_precision, disc_recall, disc_f1, disc_auc.
 *   AUC is exact: the Mann-Whitney statistic with ties counted 1/2, which equals sklearn's
 *   roc_auc_score (trapezoidal ROC) including its tie handling; NaN when a class is absent.
 *   Precision/F1 are 0 when nothing is predicted replaced (sklearn's zero_division=0).
 *   baseline_accuracy / baseline_f1: "predict original everywhere", for reference (F1 = 0).
 *   disc_accuracy_no_special / baseline_accuracy_no_special / disc_tokens_no_special: the same
 *   over the tokens masking may pick (non-pad and not a special id such as [CLS]/[SEP], which are
 *   never replaced and so inflate accuracy), when the batches say which those are.
 * Generator, over masked tokens: mlm_loss (Σ CE / masked), mlm_accuracy (top-1),
 *   mlm_perplexity = exp(mlm_loss), replaced_rate (fraction of masked tokens whose sample ≠
 *   the original).
 */

/** A growable float32 buffer (AUC needs every score). */
class Floats {
  private buf = new Float32Array(1024)
  length = 0
  push(x: number): void {
    if (this.length === this.buf.length) {
      const b = new Float32Array(this.buf.length * 2)
      b.set(this.buf)
      this.buf = b
    }
    this.buf[this.length++] = x
  }
  sorted(): Float32Array {
    return this.buf.slice(0, this.length).sort()
  }
}

/** Numerically stable BCE with logits: max(x, 0) − x·y + log(1 + e^−|x|). */
function bceWithLogits(x: number, y: number): number {
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)))
}

/**
 * Exact ROC AUC from the scores of the positives and of the negatives:
 * P(s+ > s−) + ½·P(s+ = s−), by a merge of the two sorted arrays.
 */
export function aucFromScores(params: {positives: Float32Array; negatives: Float32Array}): number {
  const pos = params.positives.slice().sort()
  const neg = params.negatives.slice().sort()
  if (pos.length === 0 || neg.length === 0) return NaN
  let below = 0 // negatives strictly below the current positive score
  let sum = 0
  let i = 0
  while (i < pos.length) {
    const s = pos[i]
    while (below < neg.length && neg[below] < s) below++
    let equal = 0
    while (below + equal < neg.length && neg[below + equal] === s) equal++
    let run = 0
    while (i < pos.length && pos[i] === s) {
      run++
      i++
    }
    sum += run * (below + equal / 2)
  }
  return sum / (pos.length * neg.length)
}

export interface DiscriminatorBatch {
  /** Discriminator logits, [B·N] flattened. */
  logits: ArrayLike<number>
  /** 1 = replaced, 0 = original, [B·N]. */
  labels: ArrayLike<number>
  /** Attention mask, 1 = real token, 0 = pad, [B·N]. */
  mask: ArrayLike<number>
  /** 1 = a token masking may pick (not pad, not a special id), [B·N]; enables the *_no_special metrics. */
  maskable?: ArrayLike<number>
}

export interface GeneratorBatch {
  /** Per masked token: cross-entropy of the original token, [M]. */
  losses: ArrayLike<number>
  /** Per masked token: the generator's argmax, [M]. */
  predicted: ArrayLike<number>
  /** Per masked token: the original id, [M]. */
  original: ArrayLike<number>
  /** Per masked token: the sampled replacement, [M]. Omit for plain MLM (no sampling). */
  sampled?: ArrayLike<number>
}

export class RtdMetricsAccumulator {
  private tokens = 0
  private bceSum = 0
  private tp = 0
  private fp = 0
  private fn = 0
  private tn = 0
  /** Confusion counts over maskable tokens: [tp, fp, fn, tn]. */
  private readonly maskableCounts = [0, 0, 0, 0]
  private maskableSeen = false
  private readonly posScores = new Floats()
  private readonly negScores = new Floats()
  private masked = 0
  private ceSum = 0
  private correct = 0
  private sampledCount = 0
  private replaced = 0

  addDiscriminator(batch: DiscriminatorBatch): void {
    const {logits, labels, mask, maskable} = batch
    if (logits.length !== labels.length || logits.length !== mask.length || (maskable && maskable.length !== mask.length)) {
      throw new RangeError(`discriminator batch: logits ${logits.length}, labels ${labels.length}${maskable ? `, mask ${mask.length} and maskable ${maskable.length}` : ` and mask ${mask.length}`} must have the same length`)
    }
    if (maskable) this.maskableSeen = true
    for (let i = 0; i < logits.length; i++) {
      if (!mask[i]) continue
      const x = logits[i]
      const y = labels[i] ? 1 : 0
      this.tokens++
      this.bceSum += bceWithLogits(x, y)
      const p = x > 0
      if (maskable?.[i]) this.maskableCounts[y ? (p ? 0 : 2) : p ? 1 : 3]++
      if (y) {
        this.posScores.push(x)
        if (p) this.tp++
        else this.fn++
      } else {
        this.negScores.push(x)
        if (p) this.fp++
        else this.tn++
      }
    }
  }

  addGenerator(batch: GeneratorBatch): void {
    const {losses, predicted, original, sampled} = batch
    const m = original.length
    if (losses.length !== m || predicted.length !== m || (sampled && sampled.length !== m)) {
      throw new RangeError(`generator batch: losses ${losses.length}, predicted ${predicted.length}, original ${m}${sampled ? `, sampled ${sampled.length}` : ''} must have the same length`)
    }
    for (let i = 0; i < m; i++) {
      this.masked++
      this.ceSum += losses[i]
      if (predicted[i] === original[i]) this.correct++
      if (sampled) {
        this.sampledCount++
        if (sampled[i] !== original[i]) this.replaced++
      }
    }
  }

  /** Metrics of what was added so far; groups with no data are left out. */
  result(): Record<string, number> {
    const out: Record<string, number> = {}
    if (this.tokens > 0) {
      const {tp, fp, fn, tn} = this
      const precision = tp + fp > 0 ? tp / (tp + fp) : 0
      const recall = tp + fn > 0 ? tp / (tp + fn) : 0
      Object.assign(out, {
        disc_loss: this.bceSum / this.tokens,
        disc_accuracy: (tp + tn) / this.tokens,
        disc_precision: precision,
        disc_recall: recall,
        disc_f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
        disc_auc: aucFromScores({positives: this.posScores.sorted(), negatives: this.negScores.sorted()}),
        disc_tokens: this.tokens,
        disc_replaced_fraction: (tp + fn) / this.tokens,
        baseline_accuracy: (tn + fp) / this.tokens,
        baseline_f1: 0,
      })
      const [mtp, mfp, mfn, mtn] = this.maskableCounts
      const n = mtp + mfp + mfn + mtn
      if (this.maskableSeen && n > 0) Object.assign(out, {disc_accuracy_no_special: (mtp + mtn) / n, baseline_accuracy_no_special: (mtn + mfp) / n, disc_tokens_no_special: n})
    }
    if (this.masked > 0) {
      const loss = this.ceSum / this.masked
      Object.assign(out, {mlm_loss: loss, mlm_accuracy: this.correct / this.masked, mlm_perplexity: Math.exp(loss), masked_tokens: this.masked})
      if (this.sampledCount > 0) out.replaced_rate = this.replaced / this.sampledCount
    }
    return out
  }
}
