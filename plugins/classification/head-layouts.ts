/**
 * Hugging Face sequence-classification heads by config.json `model_type`: parameter names,
 * dropouts and config fields, so that the export loads with transformers'
 * AutoModelForSequenceClassification.
 */
import {ConfigError} from '../../src/errors.js'
import type {HeadLayout} from '../../src/finetune/sequence-classifier.js'

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

/** The head for an encoder whose HF config is `hf`; `dropout` overrides the config's. */
export function headLayout(p: {hf: Record<string, unknown>; dropout?: number}): HeadLayout {
  const modelType = String(p.hf.model_type)
  const hidden = num(p.hf.hidden_dropout_prob) ?? 0.1
  if (modelType === 'deberta-v2') {
    // DebertaV2ForSequenceClassification: ContextPooler (pooler.dense, pooler_dropout, gelu), dropout cls_dropout ?? hidden
    const poolerDropout = p.dropout ?? num(p.hf.pooler_dropout) ?? 0
    const clsDropout = p.dropout ?? num(p.hf.cls_dropout) ?? hidden
    return {
      hfArchitecture: 'DebertaV2ForSequenceClassification',
      dense: 'pooler.dense',
      out: 'classifier',
      dropoutIn: poolerDropout,
      dropoutOut: clsDropout,
      configExtras: {pooler_hidden_size: p.hf.hidden_size, pooler_dropout: poolerDropout, pooler_hidden_act: 'gelu', cls_dropout: clsDropout},
    }
  }
  if (modelType === 'electra') {
    // ElectraForSequenceClassification: ElectraClassificationHead (dropout, dense, gelu, dropout, out_proj)
    const d = p.dropout ?? num(p.hf.classifier_dropout) ?? hidden
    return {hfArchitecture: 'ElectraForSequenceClassification', dense: 'classifier.dense', out: 'classifier.out_proj', dropoutIn: d, dropoutOut: d, configExtras: {classifier_dropout: d}}
  }
  throw new ConfigError(`no sequence-classification head is known for model_type \`${modelType}\` (known: deberta-v2, electra).`, {
    code: 'finetune.unknown_model_type',
    suggestions: ['Fine-tune a DeBERTa-v2/v3 or ELECTRA model folder.'],
  })
}

/** config.json of the fine-tuned model: the encoder's, the head's fields, the class names. */
export function classifierConfig(p: {hf: Record<string, unknown>; layout: HeadLayout; labels: string[]}): Record<string, unknown> {
  return {
    ...p.hf,
    ...p.layout.configExtras,
    architectures: [p.layout.hfArchitecture],
    id2label: Object.fromEntries(p.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(p.labels.map((l, i) => [l, i])),
    problem_type: 'single_label_classification',
  }
}
