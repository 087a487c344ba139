/** A two-column table of evaluation metrics for the terminal. */
const ORDER = ['disc_loss', 'disc_accuracy', 'disc_precision', 'disc_recall', 'disc_f1', 'disc_auc', 'baseline_accuracy', 'baseline_f1', 'mlm_loss', 'mlm_accuracy', 'mlm_perplexity', 'replaced_rate', 'disc_tokens', 'masked_tokens']

export function formatMetricsTable(metrics: Record<string, number>): string {
  const keys = [...ORDER.filter((k) => k in metrics), ...Object.keys(metrics).filter((k) => !ORDER.includes(k)).sort()]
  const width = Math.max(...keys.map((k) => k.length))
  return keys
    .map((k) => {
      const v = metrics[k]
      const s = Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(4) : String(v)
      return `  ${k.padEnd(width)}  ${s.padStart(10)}`
    })
    .join('\n')
}
