/** A two-column table of evaluation metrics for the terminal; `<name>_std` (evaluation.draws) shows as `mean ± std`. */
const ORDER = ['disc_loss', 'disc_accuracy', 'disc_accuracy_no_special', 'disc_precision', 'disc_recall', 'disc_f1', 'disc_auc', 'baseline_accuracy', 'baseline_accuracy_no_special', 'baseline_f1', 'mlm_loss', 'mlm_accuracy', 'mlm_perplexity', 'replaced_rate', 'disc_tokens', 'masked_tokens']

const show = (v: number): string => (Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(4) : String(v))

export function formatMetricsTable(metrics: Record<string, number>): string {
  const spread = (k: string): boolean => k.endsWith('_std') && k.slice(0, -4) in metrics
  const names = Object.keys(metrics).filter((k) => !spread(k))
  const keys = [...ORDER.filter((k) => names.includes(k)), ...names.filter((k) => !ORDER.includes(k)).sort()]
  const width = Math.max(...keys.map((k) => k.length))
  return keys
    .map((k) => {
      const std = metrics[`${k}_std`]
      return `  ${k.padEnd(width)}  ${show(metrics[k]).padStart(10)}${std === undefined ? '' : ` ± ${std.toFixed(4)}`}`
    })
    .join('\n')
}
