/**
 * `rtd report`: one self-contained HTML file for one or more runs (inline SVG plots and CSS, no
 * script and nothing fetched at view time), and optionally each plot as SVG and PNG files in a
 * folder beside it (`<name>-plots/`). Sections: runs, final metrics, config differences, train
 * curves, eval curves, embedding diagnostics, and what the discriminator sees (samples).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {writeFileAtomic} from '../util/run-status.js'
import {differences, showValue} from './config-diff.js'
import {plotSpecs, renderPng, renderSvg, type PlotSpec} from './plots.js'
import {distinctLabels, readRun, type MetricRecord, type RunRecord} from './read-run.js'
import type {SampleToken} from './samples.js'

export interface ReportOptions {
  runDirs: string[]
  /** Held-out sequences shown per run (at most what the run recorded). Default 4. */
  samples?: number
}

export interface RenderedPlot extends Omit<PlotSpec, 'spec'> {
  svg: string
}

export interface Report {
  html: string
  runs: RunRecord[]
  plots: RenderedPlot[]
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const fmt = (v: unknown): string => {
  if (typeof v !== 'number') return showValue(v)
  if (Number.isInteger(v)) return String(v)
  if (!Number.isFinite(v)) return String(v)
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4)
}

/** The last evaluation of a run (the final one when it has one). */
export function finalEval(run: RunRecord): MetricRecord | undefined {
  return [...run.eval].reverse().find((r) => r.final === true) ?? run.eval.at(-1)
}

function runsTable(runs: RunRecord[]): string {
  const rows = runs.map((r, i) => {
    const last = r.train.at(-1)
    return `<tr><td><span class="swatch" style="background:${COLOURS[i % COLOURS.length]}"></span>${esc(r.label)}</td><td>${esc(r.name)}</td><td>${esc(r.status?.state ?? 'unknown')}</td><td>${last ? last.step : '—'}</td><td>${r.eval.length}</td><td><code>${esc(r.dir)}</code></td></tr>`
  })
  return `<table><thead><tr><th>run</th><th>pipeline</th><th>status</th><th>steps</th><th>evaluations</th><th>directory</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function finalMetricsTable(runs: RunRecord[]): string {
  const finals = runs.map(finalEval)
  const keys = new Set<string>()
  for (const f of finals) for (const [k, v] of Object.entries(f ?? {})) if (typeof v === 'number' && !['step', 'epoch'].includes(k) && !k.endsWith('_std')) keys.add(k)
  if (keys.size === 0) return '<p class="note">No evaluation yet.</p>'
  const head = runs.map((r) => `<th>${esc(r.label)}</th>`).join('')
  const stepRow = `<tr><td>step</td>${finals.map((f) => `<td>${f ? f.step : '—'}</td>`).join('')}</tr>`
  const rows = [...keys].map((k) => {
    const cells = finals.map((f) => {
      const v = f?.[k]
      const std = f?.[`${k}_std`]
      return `<td>${v === undefined ? '—' : fmt(v)}${typeof std === 'number' ? ` ± ${fmt(std)}` : ''}</td>`
    })
    return `<tr><td>${esc(k)}</td>${cells.join('')}</tr>`
  })
  return `<table class="metrics"><thead><tr><th>metric</th>${head}</tr></thead><tbody>${stepRow}${rows.join('')}</tbody></table>`
}

function configTable(runs: RunRecord[]): string {
  if (runs.length < 2) return '<p class="note">One run: nothing to compare. Its resolved pipeline is <code>resolved.yaml</code> in its directory.</p>'
  const diff = differences(runs.map((r) => r.resolved))
  if (diff.length === 0) return '<p class="note">The resolved pipelines are identical.</p>'
  const head = runs.map((r) => `<th>${esc(r.label)}</th>`).join('')
  const rows = diff.map((d) => `<tr><td><code>${esc(d.key)}</code></td>${d.values.map((v) => `<td>${esc(showValue(v))}</td>`).join('')}</tr>`)
  return `<table><thead><tr><th>key</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

/** Background of a token: white (p = 0) to red (p = 1). */
const shade = (p: number): string => `rgba(220, 38, 38, ${Math.max(0, Math.min(1, p)).toFixed(3)})`

function tokenHtml(t: SampleToken): string {
  const title = `original: ${t.o}${t.s !== undefined ? `\nsample: ${t.s} (replaced)` : t.m ? '\nmasked; the sample equals the original' : ''}\nP(replaced) = ${t.p.toFixed(3)}`
  const cls = ['tok', t.s !== undefined ? 'replaced' : '', t.m && t.s === undefined ? 'kept' : ''].filter(Boolean).join(' ')
  const shown = t.s ?? t.o
  return `<span class="${cls}" style="background:${shade(t.p)}" title="${esc(title)}" data-p="${t.p}">${esc(shown)}</span>`
}

function samplesSection(runs: RunRecord[], count: number): string {
  const parts: string[] = []
  for (const r of runs) {
    if (!r.samples || count <= 0) continue
    const seqs = r.samples.sequences.slice(0, count)
    parts.push(`<h3>${esc(r.label)} <span class="note">step ${r.samples.step}, ${seqs.length} of ${r.samples.sequences.length} recorded sequences</span></h3>`)
    for (const s of seqs) parts.push(`<p class="sample">${s.map(tokenHtml).join(' ')}</p>`)
  }
  if (parts.length === 0) return ''
  return `<section id="samples"><h2>What the discriminator sees</h2><p class="note">Held-out sequences at the latest evaluation as the discriminator read them: <span class="tok replaced">underlined</span> tokens are the generator's replacements, <span class="tok kept">dotted</span> ones were masked but sampled back unchanged; each token is shaded by the discriminator's probability that it was replaced (white 0, red 1). Hover a token for the original, the sample and the probability.</p>${parts.join('\n')}</section>`
}

/** vega's category10, for the run swatches (the plots use the same scheme and order). */
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1a1a1a;max-width:1320px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.metrics td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure.plot{margin:0;border:1px solid #eee;padding:4px}
.note{color:#666;font-size:13px}.sample{line-height:2;max-width:1100px}
.tok{padding:1px 2px;border-radius:3px;font-family:ui-monospace,monospace;font-size:12.5px}
.tok.replaced{text-decoration:underline 2px #111;font-weight:600}.tok.kept{text-decoration:underline dotted 2px #555}`

/** Read the runs and build the report (plots rendered to SVG). */
export async function buildReport(opts: ReportOptions): Promise<Report> {
  const runs = opts.runDirs.map((d) => readRun(d))
  distinctLabels(runs)
  const plots: RenderedPlot[] = []
  for (const p of plotSpecs(runs)) plots.push({id: p.id, title: p.title, section: p.section, series: p.series, svg: await renderSvg(p.spec)})
  const figures = (section: PlotSpec['section']): string =>
    plots
      .filter((p) => p.section === section)
      .map((p) => `<figure class="plot" data-plot="${esc(p.id)}" data-series="${esc(JSON.stringify(p.series))}">${p.svg}</figure>`)
      .join('\n')
  const plotSection = (section: PlotSpec['section'], title: string, note = ''): string => {
    const f = figures(section)
    return f ? `<section id="${section}"><h2>${title}</h2>${note}<div class="plots">${f}</div></section>` : ''
  }
  const title = runs.length === 1 ? `rtd report: ${runs[0].label}` : `rtd report: ${runs.length} runs`
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="generator" content="rtd report"><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="note">Written ${new Date().toISOString()} from metrics.jsonl, resolved.yaml and samples.json of each run.</p>
<section id="runs"><h2>Runs</h2>${runsTable(runs)}</section>
<section id="final"><h2>Final metrics</h2>${finalMetricsTable(runs)}</section>
<section id="config"><h2>Config differences</h2>${configTable(runs)}</section>
${plotSection('train', 'Training')}
${plotSection('eval', 'Evaluation')}
${plotSection('embeddings', 'Embedding diagnostics', '<p class="note">At each evaluation: how similar the generator\'s and the discriminator\'s word tables are row by row, their norms, and the gradient norm each loss sends into each table on the first held-out batch (under GDES the RTD loss never reaches E_G and the MLM loss never reaches E_Δ; under ES both reach the one table).</p>')}
${samplesSection(runs, opts.samples ?? 4)}
</body></html>
`
  return {html, runs, plots}
}

export interface WriteReportResult {
  output: string
  /** The plots folder, when plot files were written. */
  plotsDir?: string
  files: string[]
  /** Why PNGs were not written, when they were not. */
  pngSkipped?: string
}

/** Build the report and write it (atomically); with `plotFiles`, each plot as SVG and PNG beside it. */
export async function writeReport(opts: ReportOptions & {output: string; plotFiles?: boolean}): Promise<WriteReportResult> {
  const report = await buildReport(opts)
  const output = path.resolve(opts.output)
  fs.mkdirSync(path.dirname(output), {recursive: true})
  writeFileAtomic(output, report.html)
  const result: WriteReportResult = {output, files: [output]}
  if (!opts.plotFiles) return result
  const plotsDir = path.join(path.dirname(output), `${path.basename(output, path.extname(output))}-plots`)
  fs.mkdirSync(plotsDir, {recursive: true})
  result.plotsDir = plotsDir
  for (const p of report.plots) {
    const svgFile = path.join(plotsDir, `${p.id}.svg`)
    fs.writeFileSync(svgFile, p.svg)
    result.files.push(svgFile)
    if (result.pngSkipped) continue
    const png = await renderPng(p.svg)
    if (png instanceof Error) {
      result.pngSkipped = png.message
      continue
    }
    const pngFile = path.join(plotsDir, `${p.id}.png`)
    fs.writeFileSync(pngFile, png)
    result.files.push(pngFile)
  }
  return result
}
