/**
 * Time and peak memory of `rtd validate` on each hostile pipeline file (issue 14: billion
 * laughs 9x9, a self-referencing alias, a 50 MB file, 20,000 nested brackets), next to a valid
 * example pipeline as the CLI start-up baseline. Runs the built CLI (`npm run build` first).
 * Target: exit 2 in < 1 s and < 200 MB each.
 *
 *   npx tsx bench/yaml-limits.ts
 * Prints one JSON object per case: exit code, wall seconds, peak RSS (MB, from /proc while it
 * runs, else the parent's getrusage of the finished child), and the time readYamlSource itself
 * takes in this process (parse_ms).
 */
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {readYamlSource} from '../src/pipeline/yaml-source.js'
import {writeHostileYaml} from '../test/helpers/hostile-yaml.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../..')
const bin = path.join(root, 'bin', 'run.js')

function peakRssOf(pid: number): number {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

async function runValidate(file: string): Promise<{code: number | null; seconds: number; peakMb: number; firstLine: string}> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [bin, 'validate', file], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  let peakMb = 0
  const poll = setInterval(() => (peakMb = Math.max(peakMb, peakRssOf(child.pid!))), 5)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearInterval(poll)
  const seconds = (performance.now() - t0) / 1000
  const issueLine = out.split('\n').find((l) => /^\s+\S+:\d+:\d+: /.test(l)) ?? out.split('\n')[0]
  return {code, seconds, peakMb, firstLine: issueLine.trim()}
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-yaml-limits-'))
try {
  const cases = [{name: 'baseline: pipelines/tiny-gdes.yaml', file: path.join(root, 'pipelines', 'tiny-gdes.yaml')}, ...writeHostileYaml(dir)]
  for (const c of cases) {
    const t0 = performance.now()
    const src = readYamlSource({file: c.file, displayFile: path.basename(c.file), env: {}})
    const parseMs = performance.now() - t0
    const r = await runValidate(c.file)
    console.log(
      JSON.stringify({
        case: c.name,
        bytes: fs.statSync(c.file).size,
        exit: r.code,
        wall_s: Number(r.seconds.toFixed(3)),
        peak_rss_mb: Number(r.peakMb.toFixed(1)),
        parse_ms: Number(parseMs.toFixed(1)),
        issue: src.issues[0]?.message ?? null,
        cli: r.firstLine,
      }),
    )
  }
} finally {
  fs.rmSync(dir, {recursive: true, force: true})
}
