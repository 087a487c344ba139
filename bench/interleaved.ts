/**
 * Interleaved rtd-vs-PyTorch measurements for docs/performance.md (issue 6): for each round and
 * config, runs PyTorch's reference step (bench_torch.py, an external tool that is not part of this
 * repository: see docs/performance.md) and `rtd bench`
 * with native kernels off/on and 1/2 workers, one child process each (so every peak RSS is its
 * own, read from /usr/bin/time -v), and prints one JSON line per run with the load average.
 *
 *   npm run build && npx tsx bench/interleaved.ts [--config bench-small] [--rounds 2] [--steps 5] [--warmup 2]
 *     [--variants torch,off-1,on-1,on-2,off-2] [--torch-bench path/to/bench_torch.py]
 * The `torch` variant needs --torch-bench (or RTD_TORCH_BENCH) and Debian's python3-torch.
 */
import {spawnSync} from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(fileURLToPath(import.meta.url), '../..')

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : fallback
}

const configs = arg('config', 'bench-small').split(',')
const rounds = Number(arg('rounds', '1'))
const steps = arg('steps', '5')
const warmup = arg('warmup', '2')
const variants = arg('variants', 'torch,off-1,on-1,on-2,off-2').split(',')
const torchBench = arg('torch-bench', process.env['RTD_TORCH_BENCH'] ?? '')
if (variants.includes('torch') && !torchBench) {
  console.error('bench/interleaved.ts: the `torch` variant needs the PyTorch reference benchmark: pass --torch-bench <path to bench_torch.py> (or set RTD_TORCH_BENCH), or leave `torch` out of --variants.')
  process.exit(2)
}

function run(variant: string, config: string): Record<string, unknown> {
  const common = ['--config', config, '--steps', steps, '--warmup', warmup]
  const cmd =
    variant === 'torch'
      ? ['/usr/bin/python3', path.resolve(torchBench), ...common, '--threads', '2']
      : ['node', path.join(root, 'bin', 'run.js'), 'bench', ...common, '--backend', 'wasm', '--native', variant.split('-')[0]!, '--workers', variant.split('-')[1]!]
  const load = os.loadavg()
  const r = spawnSync('/usr/bin/time', ['-v', ...cmd], {encoding: 'utf8', env: {...process.env, OMP_WAIT_POLICY: 'PASSIVE'}, maxBuffer: 1 << 26})
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr)
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr)
  const out: Record<string, unknown> = {variant, config, status: r.status, time_v_peak_rss_mb: rss ? Math.round(Number(rss[1]) / 102.4) / 10 : null,
    // whole process (start-up, model init and warm-up included): an upper bound on CPU per step
    time_v_cpu_s: user && sys ? Number((Number(user[1]) + Number(sys[1])).toFixed(1)) : null, loadavg_start: load.map((x) => Number(x.toFixed(2)))}
  if (line) Object.assign(out, {result: JSON.parse(line)})
  else out.stderr = r.stderr.slice(-2000)
  return out
}

/**
 * How much of 2 cores this process can get right now: wall time of one busy thread / wall time of
 * two concurrent ones doing the same work each (2.0 = two free cores, 1.0 = one core's worth).
 */
function parallelCapacity(): number {
  const code = `const {parentPort}=require('node:worker_threads'); let x=0; for(let i=0;i<2e8;i++) x+=i%7; parentPort.postMessage(x)`
  const script = `const {Worker}=require('node:worker_threads'); const go=(n)=>{const t=performance.now(); return Promise.all(Array.from({length:n},()=>new Promise((r)=>new Worker(${JSON.stringify(code)},{eval:true}).on('message',r)))).then(()=>performance.now()-t)}; go(1).then((a)=>go(2).then((b)=>console.log(2*a/b)))`
  const r = spawnSync('node', ['-e', script], {encoding: 'utf8'})
  return Number(Number(r.stdout.trim()).toFixed(2))
}

for (let round = 0; round < rounds; round++) {
  console.log(JSON.stringify({round, parallel_capacity_cores: parallelCapacity(), loadavg: os.loadavg().map((x) => Number(x.toFixed(2)))}))
  for (const config of configs) {
    for (const v of variants) console.log(JSON.stringify({round, ...run(v, config)}))
  }
}
