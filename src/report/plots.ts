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
const loadVega = () => (vegaModules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({vega, vegaLite})))

/** The SVG of a Vega-Lite spec, rendered headless: compiled and parsed for this spec alone. */
export async function renderSvgUncached(spec: Record<string, unknown>): Promise<string> {
  const {vega, vegaLite} = await loadVega()
  const compiled = vegaLite.compile(spec as never).spec
  const view = new vega.View(vega.parse(compiled), {renderer: 'none'})
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

// Placeholders for the parts that differ between plots of one template: plain words, so that
// Vega-Lite copies them verbatim into the compiled spec, in JSON values and in expressions alike.
const TITLE_HOLE = 'RtdPlotTitleHole'
const Y_TITLE_HOLE = 'RtdPlotYTitleHole'
const VALUES = 'rtd_values'
type VegaRuntime = ReturnType<typeof import('vega').parse>
/** Parsed Vega runtimes by template (a spec without its data, title and y title). */
const runtimes = new Map<string, VegaRuntime>()

/**
 * The report's plots differ only in their data, title and y title, and compiling and parsing a
 * spec is ~3/4 of rendering one (a 300-step run's 34 plots took 1.9 s at the end of every run).
 * So each template is compiled once with placeholders, which become signals (`rtd_title`,
 * `rtd_y`): where Vega-Lite wrote a placeholder as a value it becomes a signal reference, where
 * it wrote one into an expression's string literal (the marks' aria descriptions) the literal
 * is split around the signal. The SVG is the same as renderSvgUncached's to the byte (test).
 */
async function templateRuntime(template: Record<string, unknown>): Promise<VegaRuntime> {
  const key = JSON.stringify(template)
  const cached = runtimes.get(key)
  if (cached) return cached
  const {vega, vegaLite} = await loadVega()
  let json = JSON.stringify(vegaLite.compile(template as never).spec)
  for (const [hole, signal] of [[TITLE_HOLE, 'rtd_title'], [Y_TITLE_HOLE, 'rtd_y']] as const) {
    json = json.split(JSON.stringify(hole)).join(JSON.stringify({signal}))
    // what is left sits inside an expression's double-quoted string literal (JSON-escaped here)
    json = json.split(hole).join(`\\" + ${signal} + \\"`)
  }
  const compiled = JSON.parse(json) as {signals?: unknown[]}
  compiled.signals = [...(compiled.signals ?? []), {name: 'rtd_title', value: ''}, {name: 'rtd_y', value: ''}]
  const runtime = vega.parse(compiled as never)
  runtimes.set(key, runtime)
  return runtime
}

/** The SVG of a plot spec from plotSpecs() (any other Vega-Lite spec is rendered on its own). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const s = spec as {title?: unknown; data?: {values?: unknown}; encoding?: {y?: {title?: unknown}}}
  const title = s.title
  const yTitle = s.encoding?.y?.title
  const values = s.data?.values
  if (typeof title !== 'string' || typeof yTitle !== 'string' || !Array.isArray(values)) return renderSvgUncached(spec)
  const template = {...spec, title: TITLE_HOLE, data: {name: VALUES}, encoding: {...s.encoding, y: {...s.encoding!.y, title: Y_TITLE_HOLE}}}
  const {vega} = await loadVega()
  const view = new vega.View(await templateRuntime(template), {renderer: 'none'})
  try {
    view.signal('rtd_title', title).signal('rtd_y', yTitle).data(VALUES, values)
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
