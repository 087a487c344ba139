/** What a run directory records about the machine and software that produced it. */
import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The rtd package root (works from src/ under tsx and from dist/src/ after the build). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pj = path.join(dir, 'package.json')
    if (fs.existsSync(pj) && (JSON.parse(fs.readFileSync(pj, 'utf8')) as {name?: string}).name === 'rtd') return dir
    const up = path.dirname(dir)
    if (up === dir) throw new Error('rtd package root not found')
    dir = up
  }
}

export function rtdVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {version: string}).version
}

function tfVersions(root: string): Record<string, string> {
  const dir = path.join(root, 'node_modules', '@tensorflow')
  const out: Record<string, string> = {}
  if (!fs.existsSync(dir)) return out
  for (const name of fs.readdirSync(dir).sort()) {
    try {
      out[`@tensorflow/${name}`] = (JSON.parse(fs.readFileSync(path.join(dir, name, 'package.json'), 'utf8')) as {version: string}).version
    } catch {
      // not a package folder
    }
  }
  return out
}

function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', cwd, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000}).trim()
  } catch {
    return undefined
  }
}

export interface EnvironmentRecord {
  rtd: string
  node: string
  platform: string
  arch: string
  cpus: number
  cpuModel: string
  memoryBytes: number
  backendRequested: string
  packages: Record<string, string>
  git: {commit: string; dirty: boolean} | null
  argv: string[]
  cwd: string
}

export function environmentRecord(params: {pipelineFile: string; backend: string; argv: string[]}): EnvironmentRecord {
  const root = packageRoot()
  const dir = path.dirname(params.pipelineFile)
  const commit = git(dir, ['rev-parse', 'HEAD'])
  return {
    rtd: rtdVersion(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    backendRequested: params.backend,
    packages: tfVersions(root),
    git: commit === undefined ? null : {commit, dirty: (git(dir, ['status', '--porcelain']) ?? '') !== ''},
    argv: params.argv,
    cwd: process.cwd(),
  }
}
