/**
 * An encoder (any architecture plugin's EncoderNet) with a sequence-classification head on its
 * first ([CLS]) token, the head of Hugging Face's *ForSequenceClassification models:
 *
 *   x = dropout1(h[:, 0]);  x = gelu(dense(x));  logits = out(dropout2(x))
 *
 * DebertaV2ForSequenceClassification: dense = `pooler.dense` (ContextPooler, dropout1 =
 * pooler_dropout), out = `classifier` (dropout2 = cls_dropout or hidden_dropout_prob).
 * ElectraForSequenceClassification: dense = `classifier.dense`, out = `classifier.out_proj`,
 * both dropouts classifier_dropout or hidden_dropout_prob. Which one is a HeadLayout.
 * Linear weights are [out, in] (PyTorch layout) and initialised as HF does: N(0, initializer_range), zero bias.
 */
import * as tf from '#tfjs'
import type {EncoderNet} from '../plugin/architecture.js'
import {dropout, gelu, linear, type ForwardContext} from '../model/nn.js'
import {ParamStore} from '../model/params.js'
import {toHost, type HostTensorLike} from '../model/hf-tensors.js'

export interface HeadLayout {
  /** HF `architectures` entry of the fine-tuned model, e.g. DebertaV2ForSequenceClassification. */
  hfArchitecture: string
  /** Prefix of the [CLS] projection, e.g. `pooler.dense`. */
  dense: string
  /** Prefix of the output projection, e.g. `classifier`. */
  out: string
  /** Dropout before the projection and before the output layer. */
  dropoutIn: number
  dropoutOut: number
  /** config.json fields the head adds (pooler sizes, dropout names). */
  configExtras: Record<string, unknown>
}

/** A padded batch: ids [B, N] (pad where mask is 0) and the class of each row. */
export interface ClassificationBatch {
  ids: Int32Array
  mask: Float32Array
  labels: Int32Array
  batch: number
  seqLen: number
}

export class SequenceClassifier {
  readonly head: ParamStore
  readonly numLabels: number

  constructor(readonly opts: {encoder: EncoderNet<unknown>; hiddenSize: number; numLabels: number; layout: HeadLayout; seed: number; initializerRange: number}) {
    const {hiddenSize: h, numLabels: c, layout} = opts
    this.numLabels = c
    this.head = new ParamStore({role: 'classifier', seed: opts.seed, std: opts.initializerRange})
    this.head.create(`${layout.dense}.weight`, [h, h], 'normal')
    this.head.create(`${layout.dense}.bias`, [h], 'zeros')
    this.head.create(`${layout.out}.weight`, [c, h], 'normal')
    this.head.create(`${layout.out}.bias`, [c], 'zeros')
  }

  /** [B, C] logits. Call inside tf.tidy or a gradient scope: the encoder's intermediates are left to it. */
  logits(b: ClassificationBatch, ctx: ForwardContext): tf.Tensor2D {
    const {layout, hiddenSize: h} = this.opts
    const ids = tf.tensor2d(b.ids, [b.batch, b.seqLen], 'int32')
    const mask = tf.tensor2d(b.mask, [b.batch, b.seqLen], 'float32')
    const out = this.opts.encoder.apply({inputIds: ids, mask, ctx})
    const cls = out.last.reshape([b.batch, b.seqLen, h]).slice([0, 0, 0], [b.batch, 1, h]).reshape([b.batch, h]) as tf.Tensor2D
    const x = gelu(linear(dropout(cls, layout.dropoutIn, ctx), this.head.get(`${layout.dense}.weight`), this.head.get(`${layout.dense}.bias`)), ctx) as tf.Tensor2D
    return linear(dropout(x, layout.dropoutOut, ctx), this.head.get(`${layout.out}.weight`), this.head.get(`${layout.out}.bias`))
  }

  /** Mean cross-entropy of a batch (log-softmax, so no log(0)). */
  static loss(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1])
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar
    })
  }

  /** Every parameter by HF name: the encoder's, then the head's. */
  variables(): Map<string, tf.Variable> {
    return new Map([...this.opts.encoder.params.vars, ...this.head.vars])
  }

  nameOf(tfName: string): string | undefined {
    return this.opts.encoder.params.nameOf(tfName) ?? this.head.nameOf(tfName)
  }

  /** Loss and gradients by HF name (the caller disposes the gradients). */
  lossAndGrads(b: ClassificationBatch, ctx: ForwardContext): {loss: number; grads: Map<string, tf.Tensor>} {
    const vars = [...this.variables().values()]
    const {value, grads} = tf.variableGrads(() => SequenceClassifier.loss(this.logits(b, ctx), b.labels), vars)
    const loss = value.dataSync()[0]
    value.dispose()
    const out = new Map<string, tf.Tensor>()
    for (const [tfName, g] of Object.entries(grads)) {
      const name = this.nameOf(tfName)
      if (name === undefined) g.dispose()
      else out.set(name, g)
    }
    return {loss, grads: out}
  }

  /** Host copies of every parameter (the encoder's under its HF names, and the head's). */
  exportTensors(): Map<string, HostTensorLike> {
    const out = this.opts.encoder.exportTensors()
    for (const [k, v] of this.head.vars) out.set(k, toHost(v))
    return out
  }

  dispose(): void {
    this.head.dispose()
    this.opts.encoder.dispose()
  }
}
