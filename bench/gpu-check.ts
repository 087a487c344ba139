/**
 * `npm run gpu-check`: one command for a person with a GPU (issue 11, docs/gpu.md).
 *
 * 1. prints the WebGPU adapter Dawn finds (or why there is none, and what to install),
 * 2. runs `rtd verify --backend webgpu fixtures/deberta-tiny` (the reference tensors, cpu tolerances),
 * 3. runs `rtd bench --backend webgpu` on bench-small, xsmall and base (each config in its own
 *    process, so peak memory is per config) and appends the JSON lines to a file.
 *
 *   npm run gpu-check [-- --out gpu-check.jsonl] [--steps 5] [--configs bench-small,xsmall,base]
 *
 * Exit status: 0 all done, 1 verify failed or a bench failed, 2 no usable adapter.
 */
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {BENCH_CONFIGS} from '../src/bench/bench-configs.js'
import {formatAdapter, probeWebgpu} from '../src/runtime/webgpu-backend.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../..')
const {values} = parseArgs({
  options: {
    out: {type: 'string', default: `gpu-check-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`},
    steps: {type: 'string', default: '5'},
    configs: {type: 'string', default: 'bench-small,xsmall,base'},
  },
})

/** `rtd <args>` from source (tsx), output passed through; returns the exit status and stdout. */
function rtd(args: string[]): {status: number; stdout: string} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'helpers', 'rtd-dev.ts'), ...args], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20})
  process.stdout.write(r.stdout ?? '')
  return {status: r.status ?? 1, stdout: r.stdout ?? ''}
}

async function main(): Promise<number> {
  const probe = await probeWebgpu()
  if (!probe.ok) {
    console.error(`no usable WebGPU adapter: ${probe.why}`)
    for (const s of probe.suggestions) console.error(`  - ${s}`)
    return 2
  }
  console.log(`adapter: ${formatAdapter(probe.adapter)}`)
  if (probe.adapter.software) console.log('  (a software adapter: the numbers below measure the CPU, not a GPU; see docs/gpu.md for a hardware driver)')

  console.log('\n== rtd verify --backend webgpu fixtures/deberta-tiny')
  const verify = rtd(['verify', '--backend', 'webgpu', 'fixtures/deberta-tiny'])
  if (verify.status !== 0) {
    console.error('verify failed: the GPU does not reproduce the reference tensors; benchmarks skipped')
    return 1
  }

  const out = path.resolve(values.out!)
  let failed = 0
  for (const config of values.configs!.split(',').map((c) => c.trim()).filter((c) => c)) {
    if (!(BENCH_CONFIGS as readonly string[]).includes(config)) {
      console.log(`\n== bench ${config}: not a bench config of this rtd (${BENCH_CONFIGS.join(', ')}); skipped`)
      continue
    }
    console.log(`\n== rtd bench --backend webgpu --config ${config}`)
    const r = rtd(['bench', '--backend', 'webgpu', '--config', config, '--steps', values.steps!])
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'))
    if (r.status !== 0 || lines.length === 0) {
      failed++
      continue
    }
    fs.appendFileSync(out, lines.map((l) => `${l}\n`).join(''))
  }
  console.log(`\nJSON lines: ${out}`)
  return failed > 0 ? 1 : 0
}

process.exitCode = await main()
