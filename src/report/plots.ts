/**
 * The plots of a report as Vega-Lite specs, and their rendering to SVG (vega's headless SVG
 * renderer: no DOM, no canvas) and PNG (@resvg/resvg-js, prebuilt binaries from npm; when it
 * cannot load, PNGs are skipped with a reason and the SVGs still come out).
 *
 * One plot per metric, x = step, one line per run: the same run has the same colour in every
 * plot (the colour scale's domain is the list of all runs), and every plot has the legend.
 */
import type {MetricRecord, RunRecord} from './read-run.js'

export interface PlotSpec {
  /** File-safe id: the metric name. */
  id: string
  title: string
  section: 'train' | 'eval' | 'embeddings'
  /** Run labels with at least one point, in run order. */
  series: string[]
  spec: Record<string, unknown>
}

const TRAIN_ORDER = ['loss', 'loss_mlm', 'loss_rtd', 'lr', 'lambda', 'mlm_weight', 'grad_norm', 'tokens_per_s']
const TITLES: Record<string, string> = {
  loss: 'train loss (total: w·MLM + λ·RTD)',
  loss_mlm: 'train MLM loss',
  loss_rtd: 'train RTD loss',
  lr: 'learning rate',
  lambda: 'λ (RTD loss weight)',
  mlm_weight: 'MLM loss weight',
  grad_norm: 'gradient norm (before clipping)',
  tokens_per_s: 'tokens/s',
  emb_cos_mean: 'mean cosine(E_G row, E_D row)',
  emb_cos_median: 'median cosine(E_G row, E_D row)',
  emb_norm_g: '‖E_G‖',
  emb_norm_delta: '‖E_Δ‖',
  emb_norm_d: '‖E_D‖',
  emb_grad_mlm_g: '‖∂L_MLM/∂E_G‖',
  emb_grad_rtd_g: '‖∂L_RTD/∂E_G‖',
  emb_grad_mlm_delta: '‖∂L_MLM/∂E_Δ‖',
  emb_grad_rtd_delta: '‖∂L_RTD/∂E_Δ‖',
  emb_grad_mlm_d: '‖∂L_MLM/∂E_D‖',
  emb_grad_rtd_d: '‖∂L_RTD/∂E_D‖',
}
/** Not plotted: bookkeeping, and spreads (shown in the final table). */
const SKIP = new Set(['type', 'step', 'epoch', 'final', 'draws', 'baseline_f1'])

const numericKeys = (records: MetricRecord[]): string[] => {
  const keys = new Set<string>()
  for (const r of records) for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !SKIP.has(k) && !k.endsWith('_std')) keys.add(k)
  return [...keys]
}

const ordered = (keys: string[], order: string[]): string[] => [...order.filter((k) => keys.includes(k)), ...keys.filter((k) => !order.includes(k)).sort()]

/** Every plot of the runs, train metrics first, then eval metrics, then embedding diagnostics. */
export function plotSpecs(runs: RunRecord[]): PlotSpec[] {
  const labels = runs.map((r) => r.label)
  const plots: PlotSpec[] = []
  const add = (id: string, section: PlotSpec['section'], pick: (r: RunRecord) => MetricRecord[]) => {
    const values: {run: string; step: number; value: number}[] = []
    const series: string[] = []
    for (const r of runs) {
      let n = 0
      for (const rec of pick(r)) {
        const v = rec[id]
        if (typeof v !== 'number' || !Number.isFinite(v)) continue
        values.push({run: r.label, step: rec.step, value: v})
        n++
      }
      if (n > 0) series.push(r.label)
    }
    if (values.length === 0) return
    const fewPoints = values.length <= 40 * Math.max(1, series.length)
    plots.push({
      id,
      title: TITLES[id] ?? id,
      section,
      series,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: TITLES[id] ?? id,
        width: 330,
        height: 210,
        background: 'white',
        data: {values},
        mark: {type: 'line', point: fewPoints, strokeWidth: 1.8},
        encoding: {
          x: {field: 'step', type: 'quantitative', title: 'step'},
          y: {field: 'value', type: 'quantitative', title: id, scale: {zero: false}},
          color: {field: 'run', type: 'nominal', title: 'run', scale: {domain: labels, scheme: 'category10'}, legend: {orient: 'bottom', columns: 1, labelLimit: 330}},
        },
        config: {font: 'sans-serif'},
      },
    })
  }
  const trainKeys = numericKeys(runs.flatMap((r) => r.train))
  for (const k of ordered(trainKeys, TRAIN_ORDER)) add(k, 'train', (r) => r.train)
  const evalKeys = numericKeys(runs.flatMap((r) => r.eval))
  for (const k of ordered(evalKeys.filter((k) => !k.startsWith('emb_')), [])) add(k, 'eval', (r) => r.eval)
  for (const k of ordered(evalKeys.filter((k) => k.startsWith('emb_')), Object.keys(TITLES))) add(k, 'embeddings', (r) => r.eval)
  return plots
}

let vegaModules: Promise<{vega: typeof import('vega'); vegaLite: typeof import('vega-lite')}> | undefined

/** The SVG of a Vega-Lite spec, rendered headless. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  vegaModules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({vega, vegaLite}))
  const {vega, vegaLite} = await vegaModules
  const compiled = vegaLite.compile(spec as never).spec
  const view = new vega.View(vega.parse(compiled), {renderer: 'none'})
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

type Resvg = typeof import('@resvg/resvg-js').Resvg
let resvg: Promise<Resvg | Error> | undefined

/** PNG bytes of an SVG at 2x, or an Error saying why PNGs cannot be made here. */
export async function renderPng(svg: string): Promise<Buffer | Error> {
  resvg ??= import('@resvg/resvg-js').then(
    (m) => m.Resvg,
    (error: unknown) => new Error(`PNG rendering is unavailable (@resvg/resvg-js did not load: ${(error as Error).message})`),
  )
  const R = await resvg
  if (R instanceof Error) return R
  const r = new R(svg, {fitTo: {mode: 'zoom', value: 2}, background: 'white', font: {loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans'}})
  return r.render().asPng()
}
