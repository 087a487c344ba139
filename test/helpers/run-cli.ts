/**
 * Run the rtd CLI from source in a subprocess (test/helpers/rtd-dev.ts under tsx), so CLI
 * tests check real exit codes, stdout and stderr without needing a build.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..')
const entry = path.join(repoRoot, 'test', 'helpers', 'rtd-dev.ts')
// Absolute, so the CLI can run with any working directory.
const tsxLoader = import.meta.resolve('tsx')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Start `rtd <args>`; the caller may signal it. Runs in the repo root unless `cwd` is given. */
export function spawnCli(params: {args: string[]; cwd?: string; env?: Record<string, string>}): ChildProcess {
  return spawn(process.execPath, ['--import', tsxLoader, entry, ...params.args], {
    cwd: params.cwd ?? repoRoot,
    env: {...process.env, ...params.env, NO_COLOR: '1', FORCE_COLOR: '0'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Collect a started CLI's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

export function runCli(params: {args: string[]; cwd?: string; env?: Record<string, string>}): Promise<CliResult> {
  return finished(spawnCli(params))
}
