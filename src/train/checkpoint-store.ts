/**
 * Training checkpoints for resume (SPEC A.9, issue 5 "Run behaviour").
 *
 * Layout: <runDir>/checkpoints/step-<n>/ holding tensor files (safetensors), `state.json`
 * (JSON: step, epoch, data position, RNG states, versions...) and `manifest.json`, which lists
 * every other file with its size and SHA-256 and is written last.
 *
 * Atomicity: everything is written (and fsynced) into `step-<n>.tmp-<pid>`, which is then
 * renamed to `step-<n>`; only after that is `latest` (a one-line pointer, itself written to a
 * temp file and renamed) updated and are old checkpoints pruned. A crash at any point leaves
 * the previous checkpoint complete. Loading does not trust `latest`: it takes the newest
 * `step-<n>` whose manifest verifies, ignoring temp dirs and incomplete or corrupt ones.
 */
import {createHash} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {readSafetensors, writeSafetensors, type HostTensor, type TensorSource, type TensorToWrite} from '../checkpoint/safetensors.js'
import {RuntimeFailure} from '../errors.js'
import {isTempWriterAlive} from '../util/process-claim.js'

export const CHECKPOINT_FORMAT = 'rtd-checkpoint'
export const CHECKPOINT_VERSION = 1

/** manifest.json, the wire format. */
interface Manifest {
  format: typeof CHECKPOINT_FORMAT
  version: number
  step: number
  files: Record<string, {bytes: number; sha256: string}>
}

export interface SaveCheckpointParams {
  runDir: string
  step: number
  /**
   * Tensor files: file name (e.g. `model.safetensors`) -> tensors: host arrays, or sources read
   * as each tensor is written (so a checkpoint needs host memory for one tensor at a time).
   */
  tensors: Record<string, Map<string, TensorToWrite | TensorSource>>
  /** Written as state.json. Must be JSON-serialisable. */
  state: Record<string, unknown>
  /** How many complete checkpoints to keep (newest first). Default 2; at least 1. */
  keep?: number
}

export interface LoadedCheckpoint {
  dir: string
  step: number
  state: Record<string, unknown>
  /** Names of the tensor files in the checkpoint. */
  tensorFiles: string[]
  /** Read one tensor file of the checkpoint. */
  readTensors(file: string): Map<string, HostTensor>
}

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints')
}

const STEP_DIR = /^step-(\d+)$/
const TMP_DIR = /^step-\d+\.tmp-(\d+)$/

function fsyncPath(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return
  }
  try {
    fsyncSync(fd)
  } catch {
    // directories cannot be fsynced on some platforms; durability is best effort there
  } finally {
    closeSync(fd)
  }
}

function sha256File(path: string): string {
  const h = createHash('sha256')
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(1 << 24)
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      h.update(buf.subarray(0, n))
    }
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/** Complete-looking checkpoint dirs (by name), newest first. */
function stepDirs(dir: string): {name: string; step: number}[] {
  if (!existsSync(dir)) return []
  const out: {name: string; step: number}[] = []
  for (const name of readdirSync(dir)) {
    const m = STEP_DIR.exec(name)
    if (m) out.push({name, step: Number(m[1])})
  }
  return out.sort((a, b) => b.step - a.step)
}

/** Tensor files, state.json, then manifest.json (last: its presence marks the dir complete). */
function writeContents(params: {dir: string; step: number; tensors: SaveCheckpointParams['tensors']; state: Record<string, unknown>}): void {
  const {dir: tmp, step, tensors, state} = params
  const manifest: Manifest = {format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step, files: {}}
  const record = (file: string): void => {
    const path = join(tmp, file)
    fsyncPath(path)
    manifest.files[file] = {bytes: statSync(path).size, sha256: sha256File(path)}
  }
  for (const [file, source] of Object.entries(tensors)) {
    if (file === 'state.json' || file === 'manifest.json' || file.includes('/')) throw new RuntimeFailure(`invalid checkpoint tensor file name ${file}`, {code: 'checkpoint.file_name'})
    writeSafetensors(join(tmp, file), source, {format: 'pt', rtd: CHECKPOINT_FORMAT})
    record(file)
  }
  writeFileSync(join(tmp, 'state.json'), JSON.stringify({...state, step}, null, 1))
  record('state.json')
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1))
  fsyncPath(join(tmp, 'manifest.json'))
  fsyncPath(tmp)
}

/** Write a checkpoint atomically; returns its directory. */
export function saveCheckpoint(params: SaveCheckpointParams): string {
  const {runDir, step, tensors, state} = params
  const keep = Math.max(1, params.keep ?? 2)
  if (!Number.isInteger(step) || step < 0) throw new RuntimeFailure(`checkpoint step must be a non-negative integer, got ${step}`, {code: 'checkpoint.step'})
  const dir = checkpointsDir(runDir)
  mkdirSync(dir, {recursive: true})
  const finalName = `step-${step}`
  const tmp = join(dir, `${finalName}.tmp-${process.pid}`)
  rmSync(tmp, {recursive: true, force: true})
  mkdirSync(tmp)
  try {
    writeContents({dir: tmp, step, tensors, state})
  } catch (e) {
    rmSync(tmp, {recursive: true, force: true})
    throw e
  }

  const final = join(dir, finalName)
  if (existsSync(final)) {
    // re-saving a step (e.g. interrupted right after a resume): move the old one aside first
    const trash = join(dir, `${finalName}.tmp-${process.pid}-old`)
    rmSync(trash, {recursive: true, force: true})
    renameSync(final, trash)
    renameSync(tmp, final)
    rmSync(trash, {recursive: true, force: true})
  } else {
    renameSync(tmp, final)
  }
  fsyncPath(dir)
  const latestTmp = join(dir, `latest.tmp-${process.pid}`)
  writeFileSync(latestTmp, `${finalName}\n`)
  fsyncPath(latestTmp)
  renameSync(latestTmp, join(dir, 'latest'))
  fsyncPath(dir)

  // prune: dirs of higher steps (a timeline abandoned when resuming from an older checkpoint:
  // they failed verification, or resume would have taken them), older checkpoints beyond
  // `keep`, and temp dirs of dead writers
  const dirs = stepDirs(dir)
  for (const d of dirs.filter((d) => d.step > step)) rmSync(join(dir, d.name), {recursive: true, force: true})
  for (const d of dirs.filter((d) => d.step <= step).slice(keep)) rmSync(join(dir, d.name), {recursive: true, force: true})
  for (const name of readdirSync(dir)) {
    const m = TMP_DIR.exec(name) ?? /^step-\d+\.tmp-(\d+)-old$/.exec(name) ?? /^latest\.tmp-(\d+)$/.exec(name)
    if (m && !isTempWriterAlive({pid: Number(m[1]), file: join(dir, name)})) rmSync(join(dir, name), {recursive: true, force: true})
  }
  return final
}

/** Why a checkpoint directory is not usable, or null when it verifies. */
export function verifyCheckpoint(params: {dir: string; hashes?: boolean}): string | null {
  const {dir} = params
  const mpath = join(dir, 'manifest.json')
  if (!existsSync(mpath)) return 'no manifest.json'
  let manifest: Manifest
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as Manifest
  } catch (e) {
    return `manifest.json is not valid JSON (${(e as Error).message})`
  }
  if (manifest.format !== CHECKPOINT_FORMAT || typeof manifest.files !== 'object') return `manifest.json is not an ${CHECKPOINT_FORMAT} manifest`
  if (manifest.version > CHECKPOINT_VERSION) return `checkpoint format version ${manifest.version} is newer than this rtd supports (${CHECKPOINT_VERSION})`
  if (!manifest.files['state.json']) return 'manifest lists no state.json'
  for (const [file, {bytes, sha256}] of Object.entries(manifest.files)) {
    const p = join(dir, file)
    if (!existsSync(p)) return `${file} is missing`
    const size = statSync(p).size
    if (size !== bytes) return `${file} has ${size} bytes, manifest says ${bytes}`
    if (params.hashes !== false && sha256File(p) !== sha256) return `${file} does not match its SHA-256 in the manifest`
  }
  return null
}

/**
 * The newest complete checkpoint of a run, or null when there is none. Incomplete or corrupt
 * ones are skipped (`onSkip` hears why).
 */
export function loadLatestCheckpoint(params: {runDir: string; hashes?: boolean; onSkip?: (dir: string, reason: string) => void}): LoadedCheckpoint | null {
  const dir = checkpointsDir(params.runDir)
  for (const {name, step} of stepDirs(dir)) {
    const cdir = join(dir, name)
    const why = verifyCheckpoint({dir: cdir, hashes: params.hashes})
    if (why !== null) {
      params.onSkip?.(cdir, why)
      continue
    }
    return openCheckpoint({dir: cdir, step})
  }
  return null
}

/** A checkpoint directory that verifyCheckpoint accepted, for reading. */
export function openCheckpoint(params: {dir: string; step: number}): LoadedCheckpoint {
  const {dir, step} = params
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, unknown>
  const tensorFiles = Object.keys(manifest.files).filter((f) => f !== 'state.json')
  return {
    dir,
    step,
    state,
    tensorFiles,
    readTensors(file: string) {
      if (!tensorFiles.includes(file)) throw new RuntimeFailure(`checkpoint ${dir} has no tensor file ${file} (it has ${tensorFiles.join(', ') || 'none'})`, {code: 'checkpoint.missing_file'})
      return readSafetensors(join(dir, file)).tensors
    },
  }
}
