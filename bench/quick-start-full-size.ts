/**
 * The seed's quick start at full size, without the real hub (issue 10): serves a
 * deberta-v3-base-shaped checkpoint (random weights written by rtd: vocab 128,100, hidden 768,
 * 12 layers, 12 heads, FFN 3,072, with the lm_predictions head Microsoft's files carry) and an
 * IMDB-shaped `unsupervised` split (50,000 reviews of ~1,300 characters built from nlp-corpus
 * sentences, like IMDB's) from the local hub server, then runs
 *
 *   rtd run pipelines/imdb-gdes.yaml ~schedule.epochs schedule.max_steps=<steps> runtime.backend=native
 *
 * as a child process under /usr/bin/time -v, with HF_ENDPOINT pointing at the server, and prints
 * its wall time, CPU time, peak RSS and the seconds per training step from its metrics.
 * test/e2e/imdb-pipeline.test.ts runs the same path with narrow shapes; this is the long run.
 *
 *   npx tsx bench/quick-start-full-size.ts [--steps 2] [--reviews 50000] [--eval-batches 2] [--keep]
 *
 * The tokenizer is test/fixtures/tokenizer/spm.model (2,000 pieces, DeBERTa-v3's special ids; the
 * real spm.model has 128,000): the model's shapes are full size, the ids use its first 2,000 rows.
 * evaluation.max_batches is cut (the pipeline's 0 = the whole held-out 10%, about 2 hours of
 * base-size forward passes on 2 cores). Needs ~8 GB of RAM for the run plus ~2 GB for this process.
 */
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {parseArgs} from 'node:util'

import {parquetWriteBuffer} from 'hyparquet-writer'

import {readSafetensors, writeSafetensors, type TensorToWrite} from '../src/checkpoint/index.js'
import {corpusPackageFiles} from '../src/data/nlp-corpus.js'
import {RtdPair, v3Config} from '../src/model/index.js'
import {exportRtdPair} from '../src/pretrain/index.js'
import {initBackend} from '../src/runtime/backend.js'
import {architecture as debertaV3} from '../plugins/deberta-v3/deberta-v3-networks.js'
import {startHubServer} from '../test/helpers/hub-server.js'

const repoRoot = path.resolve(import.meta.dirname, '..')
const {values: args} = parseArgs({
  options: {
    steps: {type: 'string', default: '2'},
    reviews: {type: 'string', default: '50000'},
    'eval-batches': {type: 'string', default: '2'},
    keep: {type: 'boolean', default: false},
  },
})
const steps = Number(args.steps)
const reviewCount = Number(args.reviews)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-quick-start-'))
const t0 = Date.now()
const say = (s: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${s}`)

// IMDB-shaped reviews: consecutive nlp-corpus sentences joined to ~1,300 characters (IMDB's mean)
const sentences: string[] = []
for (const f of corpusPackageFiles({name: 'nlp-corpus'})) sentences.push(...(JSON.parse(fs.readFileSync(f, 'utf8')) as string[]))
const reviews: string[] = []
for (let i = 0, s = 0; i < reviewCount; i++) {
  const target = 400 + ((i * 7919) % 1800) // 400-2,200 characters, mean ~1,300
  let text = ''
  while (text.length < target) text += (text ? ' ' : '') + sentences[s++ % sentences.length]
  reviews.push(text)
}
const parquet = (texts: string[]) => Buffer.from(parquetWriteBuffer({columnData: [{name: 'text', data: texts, type: 'STRING'}, {name: 'label', data: texts.map(() => -1), type: 'INT32'}]}))
const unsupervised = parquet(reviews)
say(`${reviews.length} reviews, ${(reviews.reduce((n, r) => n + r.length, 0) / 1e6).toFixed(1)} M characters, Parquet ${(unsupervised.length / 1e6).toFixed(1)} MB`)

// deberta-v3-base's shapes (v3Config's defaults), random weights, exported the way rtd exports
await initBackend({backend: 'native'})
const disc = v3Config()
const pair = new RtdPair({architecture: debertaV3, discriminator: disc, generator: {...disc, numHiddenLayers: 1}, sharing: 'gdes', seed: 3, maskTokenId: 2000})
const modelDir = path.join(tmp, 'model')
const spmModel = path.join(repoRoot, 'test', 'fixtures', 'tokenizer', 'spm.model')
fs.mkdirSync(path.join(tmp, 'tok'))
fs.copyFileSync(spmModel, path.join(tmp, 'tok', 'spm.model'))
exportRtdPair({pair, dir: modelDir, tokenizerDir: path.join(tmp, 'tok')})
pair.dispose()
// Microsoft's discriminator files carry an lm_predictions head too (SPEC B.4): add the generator's
const weights = new Map<string, TensorToWrite>()
for (const [k, v] of readSafetensors(path.join(modelDir, 'model.safetensors')).tensors) weights.set(k, v as TensorToWrite)
for (const [k, v] of readSafetensors(path.join(modelDir, 'generator', 'model.safetensors')).tensors) if (k.startsWith('lm_predictions.')) weights.set(k, v as TensorToWrite)
writeSafetensors(path.join(modelDir, 'model.safetensors'), weights)
const safetensors = fs.readFileSync(path.join(modelDir, 'model.safetensors'))
say(`checkpoint: ${weights.size} tensors, ${(safetensors.length / 1e6).toFixed(0)} MB`)

const hub = await startHubServer({
  repos: [
    {repo: 'stanfordnlp/imdb', type: 'dataset', files: {'plain_text/unsupervised-00000-of-00001.parquet': unsupervised, 'README.md': '# imdb (shape only)'}},
    {
      repo: 'microsoft/deberta-v3-base',
      files: {
        'config.json': fs.readFileSync(path.join(modelDir, 'config.json')),
        'model.safetensors': safetensors,
        'spm.model': fs.readFileSync(spmModel),
        'tokenizer_config.json': JSON.stringify({do_lower_case: false, vocab_type: 'spm'}),
        'README.md': '# deberta-v3-base shapes, random weights',
      },
    },
  ],
})
const outputDir = path.join(tmp, 'runs')
const env = {...process.env, HF_ENDPOINT: hub.url, HF_HOME: path.join(tmp, 'hf-home'), HF_HUB_CACHE: path.join(tmp, 'hf'), HF_TOKEN: '', HF_HUB_OFFLINE: '', RTD_CACHE: path.join(tmp, 'rtd-cache')}
// what `rtd plan` estimates for this run (it reads only config.json), to set beside the measured peak
const plan = await new Promise<string>((resolve) => {
  const p = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), 'plan', 'pipelines/imdb-gdes.yaml', 'runtime.backend=native'], {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  p.stdout.on('data', (b: Buffer) => (out += b))
  p.on('exit', () => resolve(out))
})
console.error(plan)
const cli = ['run', 'pipelines/imdb-gdes.yaml', '~schedule.epochs', `schedule.max_steps=${steps}`, 'schedule.log_every=1', 'runtime.backend=native', `evaluation.max_batches=${args['eval-batches']}`, `output.dir=${outputDir}`]
say(`rtd ${cli.join(' ')}`)
// asynchronously: a blocking spawn would stop the hub server's event loop
const child = spawn('/usr/bin/time', ['-v', process.execPath, path.join(repoRoot, 'bin', 'run.js'), ...cli], {cwd: repoRoot, env, stdio: ['ignore', 'inherit', 'pipe']})
// peak RSS per phase: the run's node process (the child of /usr/bin/time) sampled every 200 ms,
// the phase being the kind of its last progress line on stderr
let stderr = ''
// a progress line is printed when its work is done: name the phase by what comes after it
const PHASE_AFTER: Record<string, string> = {
  data: 'data stage',
  backend: 'model load, step 1',
  train: 'later steps, final checkpoint, evaluation',
  'final evaluation': 'export',
  exported: 'export',
  completed: 'end',
}
let phase = 'start'
const phasePeakMb: Record<string, number> = {}
child.stderr.on('data', (b: Buffer) => {
  stderr += b
  process.stderr.write(b)
  for (const line of String(b).split('\n')) {
    const kind = /^(data|backend|train|final evaluation|exported|completed)\b/.exec(line)?.[1]
    if (kind !== undefined) phase = PHASE_AFTER[kind]!
  }
})
const rssOf = (pid: number): number | undefined => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}
const sampler = setInterval(() => {
  let node: number | undefined
  try {
    node = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined
  } catch {
    return
  }
  const mb = node === undefined ? undefined : rssOf(node)
  if (mb !== undefined) phasePeakMb[phase] = Math.max(phasePeakMb[phase] ?? 0, Math.round(mb))
}, 200)
const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)))
clearInterval(sampler)
await hub.close()

const field = (name: string) => stderr.match(new RegExp(`${name}: (.*)`))?.[1]?.trim()
const runDir = fs.readdirSync(outputDir).filter((d) => d.startsWith('imdb-gdes-')).map((d) => path.join(outputDir, d))[0]
const metrics = runDir ? fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : []
const train = metrics.filter((m) => m['type'] === 'train')
const summary = {
  exit: code,
  wall: field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)'),
  cpu_s: Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)')),
  peak_rss_mb: Math.round(Number(field('Maximum resident set size \\(kbytes\\)')) / 1024),
  sampled_peak_rss_mb_by_phase: phasePeakMb,
  plan_peak_estimate: /peak[^\n]*/i.exec(plan)?.[0],
  train: train.map((m) => ({step: m['step'], loss: m['loss'], tokens_per_s: m['tokens_per_s'], s_per_step: 1024 / Number(m['tokens_per_s'])})),
  load_average: os.loadavg().map((x) => x.toFixed(1)).join(' '),
}
console.log(JSON.stringify(summary, null, 2))
if (!args.keep) fs.rmSync(tmp, {recursive: true, force: true})
else say(`kept ${tmp}`)
process.exit(code)
