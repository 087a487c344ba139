/**
 * `rtd report`: plots of every train and eval metric with one series per run, the final-metrics
 * and config-difference tables, the samples view, plot files beside the HTML, and --watch. The
 * last test opens the report in headless Chromium and checks that every plot rendered.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {expect} from 'chai'

import {buildReport, writeReport} from '../../../src/report/build-report.js'
import {plotSpecs, renderSvg, renderSvgUncached} from '../../../src/report/plots.js'
import {distinctLabels, readRun} from '../../../src/report/read-run.js'
import {watchReport} from '../../../src/report/watch-report.js'
import {findChromium, HeadlessPage} from '../../helpers/headless-chromium.js'
import {writeFakeRun} from './fake-runs.js'

const TRAIN = ['loss', 'loss_mlm', 'loss_rtd', 'lr', 'lambda', 'grad_norm', 'tokens_per_s']
const EVAL = ['disc_loss', 'disc_auc', 'disc_accuracy', 'disc_accuracy_no_special', 'mlm_loss', 'disc_tokens']
const EMB = ['emb_cos_mean', 'emb_cos_median', 'emb_norm_g', 'emb_norm_d', 'emb_grad_mlm_g', 'emb_grad_rtd_g']

describe('rtd report', function () {
  this.timeout(120_000)
  let tmp: string
  let gdes: string
  let es: string

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-report-'))
    gdes = writeFakeRun({parent: tmp, name: 'tiny-gdes', sharing: 'gdes', steps: 30, evalEvery: 10}).dir
    es = writeFakeRun({parent: tmp, name: 'tiny-es', sharing: 'es', steps: 20, evalEvery: 10, offset: 0.3}).dir
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('has one plot per train and eval metric, each with one series per run that logged it', () => {
    const runs = [readRun(gdes), readRun(es)]
    const plots = plotSpecs(runs)
    const ids = plots.map((p) => p.id)
    expect(ids.filter((id) => TRAIN.includes(id))).to.deep.equal(TRAIN) // in this order, first
    expect(ids.indexOf('tokens_per_s')).to.be.lessThan(ids.indexOf('disc_loss'))
    for (const k of [...EVAL, ...EMB]) expect(ids, k).to.include(k)
    expect(ids).to.not.include('disc_auc_std')
    expect(ids).to.not.include('step')
    for (const p of plots) expect(p.series, p.id).to.deep.equal(['tiny-gdes-20250101-000000', 'tiny-es-20250101-000000'])
    expect(plots.find((p) => p.id === 'emb_cos_mean')!.section).to.equal('embeddings')
    const loss = plots.find((p) => p.id === 'loss')!.spec as {data: {values: {run: string; step: number; value: number}[]}}
    expect(loss.data.values.filter((v) => v.run === 'tiny-es-20250101-000000')).to.have.length(20)
    expect(loss.data.values.find((v) => v.run === 'tiny-gdes-20250101-000000' && v.step === 2)!.value).to.equal(5)
  })

  it('renders each plot to SVG with vega: one line per run and a legend naming every run', async () => {
    const r = await buildReport({runDirs: [gdes, es]})
    const loss = r.plots.find((p) => p.id === 'loss')!
    expect(loss.svg).to.match(/^<svg/)
    // vega draws a line mark per series (facet), each one path
    const lines = loss.svg.match(/class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="M[^"]+"/g)
    expect(lines).to.have.length(2)
    expect(loss.svg).to.include('tiny-gdes-20250101-000000')
    expect(loss.svg).to.include('tiny-es-20250101-000000')
  })

  it('renders from a compiled template the same SVG, to the byte, as compiling each spec, whatever the titles hold', async () => {
    const plots = plotSpecs([readRun(gdes), readRun(es)])
    // titles that would break a template spliced in as text: quotes, an expression, non-ASCII
    // (not backslashes: Vega-Lite's own expressions break on those)
    const odd = ['a "quoted" title', "it's ‖∂L/∂E_Δ‖", '" + datum.value + "']
    const specs = [
      ...plots.map((p) => p.spec),
      ...odd.map((t, i) => {
        const spec = structuredClone(plots[i].spec) as {title: string; encoding: {y: {title: string}}}
        spec.title = t
        spec.encoding.y.title = `y ${t}`
        return spec as unknown as Record<string, unknown>
      }),
      // a long run's plots draw no points: a second template
      ...plots.slice(0, 2).map((p): Record<string, unknown> => ({...p.spec, mark: {...(p.spec.mark as object), point: false}})),
    ]
    for (const spec of specs) {
      const fast = await renderSvg(spec)
      expect(fast, String(spec.title)).to.equal(await renderSvgUncached(spec))
      expect(fast).to.include(`aria-label="step: `)
    }
    const quoted = await renderSvg(specs[plots.length]!)
    expect(quoted).to.include('a &quot;quoted&quot; title')
  })

  it('tables the final metrics (mean ± std across draws) and the config differences', async () => {
    const {html} = await buildReport({runDirs: [gdes, es]})
    const final = html.slice(html.indexOf('id="final"'), html.indexOf('id="config"'))
    expect(final).to.include('<td>disc_auc</td><td>0.7300 ± 0.0040</td><td>0.4200 ± 0.0040</td>')
    expect(final).to.include('<td>step</td><td>30</td><td>20</td>')
    const config = html.slice(html.indexOf('id="config"'), html.indexOf('id="train"'))
    expect(config).to.include('<td><code>model.embedding_sharing</code></td><td>gdes</td><td>es</td>')
    expect(config).to.include('<td><code>schedule.max_steps</code></td><td>30</td><td>20</td>')
    expect(config).to.not.include('loss.lambda') // the same in both
    // self-contained: no script, no external resource
    expect(html).to.not.match(/<script|<link|src="http|href="http/)
  })

  it('shows --samples N held-out sequences shaded by P(replaced), with original, sample and probability on hover', async () => {
    const {html} = await buildReport({runDirs: [gdes], samples: 2})
    const section = html.slice(html.indexOf('id="samples"'))
    expect(section.match(/<p class="sample">/g)).to.have.length(2)
    expect(section).to.include('2 of 6 recorded sequences')
    expect(section).to.include('class="tok replaced" style="background:rgba(220, 38, 38, 0.910)" title="original: the\nsample: a (replaced)\nP(replaced) = 0.910"')
    expect(section).to.include('>a</span>') // the discriminator read the sample
    expect(section).to.include('&lt;b&gt;') // token text is escaped
    expect(section).to.include('class="tok kept"')
    const none = await buildReport({runDirs: [gdes], samples: 0})
    expect(none.html).to.not.include('id="samples"')
  })

  it('writes each plot as SVG and PNG beside the HTML', async () => {
    const out = path.join(tmp, 'out', 'cmp.html')
    const r = await writeReport({runDirs: [gdes, es], output: out, plotFiles: true})
    expect(fs.existsSync(out)).to.equal(true)
    expect(r.plotsDir).to.equal(path.join(tmp, 'out', 'cmp-plots'))
    const svg = fs.readFileSync(path.join(r.plotsDir!, 'loss.svg'), 'utf8')
    expect(svg).to.match(/^<svg[^>]*width="\d+"/)
    expect(r.pngSkipped, r.pngSkipped).to.equal(undefined)
    const png = fs.readFileSync(path.join(r.plotsDir!, 'loss.png'))
    expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const width = png.readUInt32BE(16)
    expect(width).to.be.greaterThan(500) // 2x the SVG's width
  })

  it('labels two runs with the same folder name by their parent folder too', () => {
    const other = writeFakeRun({parent: path.join(tmp, 'elsewhere'), name: 'tiny-gdes', sharing: 'gdes', steps: 3, evalEvery: 3}).dir
    const runs = [readRun(gdes), readRun(other)]
    distinctLabels(runs)
    expect(runs.map((r) => r.label)).to.deep.equal([`${path.basename(tmp)}/tiny-gdes-20250101-000000`, 'elsewhere/tiny-gdes-20250101-000000'])
  })

  it('rejects a folder that is not a run directory', async () => {
    const err = await buildReport({runDirs: [tmp]}).catch((e: unknown) => e)
    expect((err as {code?: string}).code).to.equal('report.not_a_run')
  })

  it('--watch rewrites the report when metrics.jsonl changes and ends once the run is no longer running', async () => {
    const live = writeFakeRun({parent: path.join(tmp, 'live'), name: 'live', sharing: 'gdes', steps: 5, evalEvery: 5, state: 'running'}).dir
    const out = path.join(live, 'report.html')
    const seenSteps: number[] = []
    let step = 5
    const writes = await watchReport({
      runDirs: [live],
      output: out,
      intervalMs: 20,
      onWrite: () => {
        seenSteps.push(readRun(live).train.at(-1)!.step)
        const html = fs.readFileSync(out, 'utf8')
        expect(html).to.include('<figure class="plot" data-plot="loss"')
        // the run goes on: two more steps, then it ends
        if (step < 7) {
          step++
          fs.appendFileSync(path.join(live, 'metrics.jsonl'), `${JSON.stringify({type: 'train', step, loss: 1 / step})}\n`)
        } else fs.writeFileSync(path.join(live, 'status.json'), JSON.stringify({state: 'completed', pid: 1, started: 'x'}))
      },
    })
    expect(seenSteps.slice(0, 3)).to.deep.equal([5, 6, 7])
    expect(writes).to.be.within(3, 4) // the status change may give one last write
  })

  it('opens in headless Chromium with every plot rendered (non-empty SVG, one line per run, legend)', async function () {
    const chromium = findChromium()
    if (!chromium) {
      console.log('      skipped: no chromium (apt-get install chromium; .ci/run installs it)')
      this.skip()
    }
    const out = path.join(tmp, 'browser', 'report.html')
    await writeReport({runDirs: [gdes, es], output: out})
    const page = await HeadlessPage.open({chromium: chromium!})
    try {
      await page.goto(`file://${out}`)
      const figures = await page.evaluate<{id: string; series: string[]; width: number; height: number; paths: number; drawn: number; legend: string[]}[]>(`
        [...document.querySelectorAll('figure.plot')].map((f) => {
          const svg = f.querySelector('svg')
          const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0}
          const paths = [...f.querySelectorAll('.mark-line path')]
          return {
            id: f.dataset.plot,
            series: JSON.parse(f.dataset.series),
            width: box.width,
            height: box.height,
            paths: paths.length,
            drawn: paths.filter((p) => p.getBBox().width > 0 && p.getTotalLength() > 0).length,
            legend: [...f.querySelectorAll('.role-legend-label text')].map((t) => t.textContent),
          }
        })`)
      expect(figures.map((f) => f.id)).to.include.members([...TRAIN, ...EVAL, ...EMB])
      for (const f of figures) {
        expect(f.width, f.id).to.be.greaterThan(200)
        expect(f.height, f.id).to.be.greaterThan(100)
        expect(f.paths, f.id).to.equal(f.series.length)
        expect(f.drawn, f.id).to.equal(f.series.length)
        expect(f.legend, f.id).to.include.members(f.series)
      }
      const tables = await page.evaluate<number>(`document.querySelectorAll('#final table tr').length`)
      expect(tables).to.be.greaterThan(5)
    } finally {
      await page.close()
    }
  })
})

describe('rtd report (CLI)', function () {
  this.timeout(120_000)
  it('writes report.html into a single run directory, with the plot files beside it; --json says where', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-report-cli-'))
    try {
      const run = writeFakeRun({parent: tmp, name: 'cli', sharing: 'gdes', steps: 4, evalEvery: 2}).dir
      const {runCli} = await import('../../helpers/run-cli.js')
      const r = await runCli({args: ['report', run, '--samples', '1', '--json']})
      expect(r.code, r.stderr).to.equal(0)
      const out = JSON.parse(r.stdout) as {output: string; plotsDir: string; files: string[]}
      expect(out.output).to.equal(path.join(run, 'report.html'))
      expect(out.files).to.include(path.join(run, 'report-plots', 'disc_auc.svg'))
      expect(out.files).to.include(path.join(run, 'report-plots', 'disc_auc.png'))
      expect(fs.readFileSync(out.output, 'utf8').match(/<p class="sample">/g)).to.have.length(1)
      const bad = await runCli({args: ['report', tmp]})
      expect(bad.code).to.equal(2)
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })
})
