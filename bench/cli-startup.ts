/**
 * Wall time of the light CLI commands on the built CLI (bin/run.js, dist/): `rtd validate
 * pipelines/tiny-gdes.yaml` (target: <= 0.5 s on the project's 2-core machine, issue 9),
 * `rtd plugins`, `rtd schema` and `rtd --help`. None of them may load TensorFlow.js
 * (test/src/plugin/lazy-plugins.test.ts asserts that); this measures what is left.
 * Each command runs --runs times after one warm-up; prints one JSON line per command with the
 * min and median wall time in ms, and the median CPU time (user + sys of the process, from
 * process.cpuUsage at exit), which a loaded machine inflates much less than the wall time.
 * Needs `npm run build` first.
 *
 *   npx tsx bench/cli-startup.ts [--runs 10]
 */
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(fileURLToPath(import.meta.url), '../..')
const i = process.argv.indexOf('--runs')
const runs = i >= 0 ? Number(process.argv[i + 1]) : 10

// the child reports its own CPU time on stderr when it exits
const CPU_MARK = 'rtd-cli-startup-cpu-us:'
const reportCpu = `data:text/javascript,process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\n${CPU_MARK}' + (u.user + u.system) + '\\n') })`

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const commands: string[][] = [['validate', 'pipelines/tiny-gdes.yaml'], ['plugins'], ['schema'], ['--help']]
for (const args of commands) {
  const times: number[] = []
  const cpus: number[] = []
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now()
    const res = spawnSync(process.execPath, ['--import', reportCpu, path.join(root, 'bin/run.js'), ...args], {cwd: root, encoding: 'utf8'})
    const ms = performance.now() - t0
    if (res.status !== 0) throw new Error(`rtd ${args.join(' ')} exited ${res.status}: ${res.stderr}`)
    if (r === 0) continue // the first run warms the file cache
    times.push(ms)
    cpus.push(Number(res.stderr.slice(res.stderr.lastIndexOf(CPU_MARK) + CPU_MARK.length)) / 1000)
  }
  console.log(JSON.stringify({command: `rtd ${args.join(' ')}`, runs, min_ms: Math.round(Math.min(...times)), median_ms: Math.round(median(times)), median_cpu_ms: Math.round(median(cpus))}))
}
