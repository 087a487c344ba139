/**
 * Conformance check against a reference dump in the format of fixtures/deberta-tiny
 * (config.json, generator_config.json, rtd.json, model.safetensors, generator.safetensors,
 * inputs.safetensors, expected.safetensors, README.md with a tolerance table).
 *
 * Runs the generator and discriminator forward and the losses and gradients of each embedding
 * sharing mode the dump covers, with the stored replacement samples, and compares every tensor of
 * expected.safetensors with |actual - expected| <= atol + rtol·|expected| (integers exactly), at
 * non-pad positions only. Works on the current tfjs backend and any architecture plugin: the
 * architecture comes from rtd.json `architecture`, else from the plugin that reads config.json's
 * `model_type`; the pair is the shared RtdPair over that plugin's networks.
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import * as tf from '#tfjs'
import {readSafetensors, type HostTensor} from '../checkpoint/safetensors.js'
import {RuntimeFailure} from '../errors.js'
import {EMBEDDING_SHARING, type EmbeddingSharing} from '../model/embeddings.js'
import type {ModelFault} from '../model/nn.js'
import {RtdPair, type RtdLossOptions} from '../model/rtd-pair.js'
import type {ArchitectureNetworks, ArchitecturePlugin, TableName} from '../plugin/architecture.js'
import {PluginRegistry} from '../plugin/registry.js'

export interface Tolerance {
  atol: number
  rtol: number
  /** Integer tensor: must match exactly. */
  exact: boolean
}

/** Used for a computed tensor whose README row is missing (reported in the notes). */
const DEFAULT_TOLERANCE: Tolerance = {atol: 1e-4, rtol: 1e-4, exact: false}

/**
 * Reads the tolerance rows of every markdown table with `name`, `atol` and `rtol` columns:
 * | `name` | ... | atol | rtol | ... |, where atol `exact` means integer equality.
 */
export function parseToleranceTable(readme: string): Map<string, Tolerance> {
  const out = new Map<string, Tolerance>()
  let cols: string[] | undefined
  for (const raw of readme.split('\n')) {
    const line = raw.trim()
    if (!line.startsWith('|')) {
      cols = undefined
      continue
    }
    const cells = line.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim())
    if (cols === undefined) {
      cols = cells.map((c) => c.toLowerCase())
      continue
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue
    const iName = cols.indexOf('name')
    const iAtol = cols.indexOf('atol')
    const iRtol = cols.indexOf('rtol')
    if (iName < 0 || iAtol < 0) continue
    const name = cells[iName].replace(/`/g, '')
    const atolCell = cells[iAtol] ?? ''
    if (atolCell.toLowerCase() === 'exact') out.set(name, {atol: 0, rtol: 0, exact: true})
    else if (atolCell !== '' && Number.isFinite(Number(atolCell))) {
      const rtol = iRtol >= 0 && cells[iRtol] !== '' ? Number(cells[iRtol]) : 0
      out.set(name, {atol: Number(atolCell), rtol: Number.isFinite(rtol) ? rtol : 0, exact: false})
    }
  }
  return out
}

export const CHECK_STATUSES = ['pass', 'fail', 'missing', 'skipped'] as const
export type CheckStatus = (typeof CHECK_STATUSES)[number]

export interface TensorCheck {
  name: string
  status: CheckStatus
  /** Largest |actual - expected| over the compared elements. */
  worstAbs: number
  /** Largest |actual - expected| / (atol + rtol·|expected|); <= 1 passes (Infinity for an exact mismatch). */
  worstRatio: number
  /** Elements compared (non-pad positions). */
  compared: number
  tolerance?: Tolerance
  note?: string
}

export interface VerifyReport {
  dir: string
  backend: string
  passed: boolean
  checks: TensorCheck[]
  notes: string[]
}

/** Letter of a shared table in expected-tensor names (E_G, P_delta, T_G, ...) → the contract's table name. */
const TABLE_LETTERS: Record<string, TableName> = {E: 'word', P: 'position', T: 'token_type'}

interface Fixture {
  architecture: ArchitecturePlugin
  networks: ArchitectureNetworks
  /** The architecture's parsed configs (its own config type). */
  disc: unknown
  gen: unknown
  rtd: Record<string, unknown>
  discWeights: Map<string, HostTensor>
  genWeights: Map<string, HostTensor>
  inputs: Map<string, HostTensor>
  expected: Map<string, HostTensor>
  tolerances: Map<string, Tolerance>
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw new RuntimeFailure(`cannot read ${file}: ${(e as Error).message}`, {code: 'verify.fixture_unreadable', cause: e})
  }
}

async function loadFixture(dir: string, registry: PluginRegistry): Promise<Fixture> {
  const need = ['config.json', 'generator_config.json', 'model.safetensors', 'generator.safetensors', 'inputs.safetensors', 'expected.safetensors', 'README.md']
  const absent = need.filter((f) => !existsSync(path.join(dir, f)))
  if (absent.length > 0) {
    throw new RuntimeFailure(`${dir} is not a reference dump: missing ${absent.join(', ')}`, {
      code: 'verify.fixture_incomplete',
      suggestions: ['point rtd verify at a folder in the format of fixtures/deberta-tiny in the rtd repository (see its README.md)'],
    })
  }
  const rtdFile = path.join(dir, 'rtd.json')
  const rtd = existsSync(rtdFile) ? readJson(rtdFile) : {}
  const discFile = path.join(dir, 'config.json')
  const genFile = path.join(dir, 'generator_config.json')
  const discJson = readJson(discFile)
  const genJson = readJson(genFile)
  const architecture = fixtureArchitecture({rtd, config: discJson, where: dir, registry})
  return {
    architecture,
    networks: await architecture.load(),
    disc: architecture.configs.parse(discJson, discFile),
    gen: architecture.configs.parse(genJson, genFile),
    rtd,
    discWeights: readSafetensors(path.join(dir, 'model.safetensors')).tensors,
    genWeights: readSafetensors(path.join(dir, 'generator.safetensors')).tensors,
    inputs: readSafetensors(path.join(dir, 'inputs.safetensors')).tensors,
    expected: readSafetensors(path.join(dir, 'expected.safetensors')).tensors,
    tolerances: parseToleranceTable(readFileSync(path.join(dir, 'README.md'), 'utf8')),
  }
}

/**
 * The architecture plugin of a dump: rtd.json `architecture` when given (it must read config.json's
 * `model_type`), else the plugin whose `modelTypes` include config.json's `model_type`.
 */
export function fixtureArchitecture(opts: {rtd: Record<string, unknown>; config: Record<string, unknown>; where: string; registry?: PluginRegistry}): ArchitecturePlugin {
  const registry = opts.registry ?? new PluginRegistry()
  const known = registry.names('architecture')
  const modelType = opts.config.model_type
  const named = opts.rtd.architecture
  if (named === undefined) {
    const found = typeof modelType === 'string' ? registry.architectureForModelType(modelType) : undefined
    if (found === undefined) {
      throw new RuntimeFailure(`${opts.where}/config.json: ${modelType === undefined ? 'no model_type' : `model_type ${JSON.stringify(modelType)} is read by no architecture rtd knows`}`, {
        code: 'verify.architecture_unknown',
        suggestions: [`name the architecture in rtd.json \`architecture\` (one of ${known.join(', ')}), or list the plugin that reads this model_type`],
      })
    }
    return found
  }
  const plugin = typeof named === 'string' ? registry.get('architecture', named) : undefined
  if (plugin === undefined) {
    throw new RuntimeFailure(`${opts.where}/rtd.json: architecture ${JSON.stringify(named)} is not one rtd verify knows`, {
      code: 'verify.architecture_unknown',
      suggestions: [`use one of ${known.join(', ')} (or leave it out: config.json model_type decides)`],
    })
  }
  if (modelType !== undefined && !plugin.modelTypes.includes(String(modelType))) {
    throw new RuntimeFailure(`${opts.where}: rtd.json says architecture ${JSON.stringify(named)} but config.json has model_type ${JSON.stringify(modelType)}`, {
      code: 'verify.architecture_mismatch',
      suggestions: [`make rtd.json \`architecture\` and config.json \`model_type\` agree (${plugin.name} reads model_type ${plugin.modelTypes.join(', ')})`],
    })
  }
  return plugin
}

/** The fixture's pair: the shared RtdPair over its architecture's networks. */
function makePair(fx: Fixture, mode: EmbeddingSharing, faults?: readonly ModelFault[]): RtdPair {
  return new RtdPair({architecture: fx.networks, discriminator: fx.disc, generator: fx.gen, sharing: mode, seed: 0, maskTokenId: Number(fx.rtd.mask_token_id ?? 0), faults})
}

interface Actual {
  shape: number[]
  data: Float32Array | Int32Array
}

/**
 * Host values of tensors, read after the tape's scope (asynchronously: the webgpu backend cannot
 * read synchronously in Node). `take` copies the tensor on the device and returns the Actual that
 * `read` fills in.
 */
class HostReads {
  private pending: {t: tf.Tensor; a: Actual}[] = []

  take(t: tf.Tensor, shape?: number[]): Actual {
    const a: Actual = {shape: shape ?? [...t.shape], data: new Float32Array(0)}
    this.pending.push({t: tf.keep(t.clone()), a})
    return a
  }

  async read(): Promise<void> {
    const list = this.pending
    this.pending = []
    try {
      for (const {t, a} of list) a.data = (await t.data()) as Float32Array
    } finally {
      for (const {t} of list) t.dispose()
    }
  }
}

/** Everything one sharing mode produces, by expected-tensor name. */
async function runMode(opts: {fx: Fixture; mode: EmbeddingSharing; faults?: readonly ModelFault[]; wanted: Set<string>; primary: boolean}): Promise<{actual: Map<string, Actual>; notes: string[]}> {
  const {fx, mode, wanted} = opts
  const input = (name: string): HostTensor => {
    const t = fx.inputs.get(name)
    if (t === undefined) throw new RuntimeFailure(`inputs.safetensors has no ${name}`, {code: 'verify.fixture_incomplete'})
    return t
  }
  const mask = input('attention_mask')
  const [B, N] = mask.shape
  const H = fx.networks.configs.facts(fx.disc).hiddenSize
  const lambda = Number(fx.rtd.rtd_lambda ?? 1)
  const pair = makePair(fx, mode, opts.faults)
  const actual = new Map<string, Actual>()
  const notes: string[] = []
  const reads = new HostReads()
  const host = (t: tf.Tensor, shape?: number[]) => reads.take(t, shape)
  try {
    notes.push(...pair.loadTensors({generator: fx.genWeights, discriminator: fx.discWeights}).map((n) => `${mode}: ${n}`))
    const lossOpts: RtdLossOptions = {
      inputIds: input('input_ids').data as Int32Array,
      maskedInputIds: fx.inputs.has('masked_input_ids') ? (input('masked_input_ids').data as Int32Array) : undefined,
      attentionMask: mask.data as Int32Array,
      mlmMask: input('mlm_mask').data as Int32Array,
      samples: input('replacement_samples').data as Int32Array,
      tokenTypeIds: fx.inputs.has('token_type_ids') ? (input('token_type_ids').data as Int32Array) : undefined,
      batch: B,
      seqLen: N,
      lambda,
    }
    const p = `${mode}.`
    // Forward outputs and the total-loss gradients in one pass.
    const gradsOf = (which: 'mlm' | 'rtd' | 'total'): Map<string, tf.Tensor> => {
      const out = new Map<string, tf.Tensor>()
      const {value, grads} = tf.variableGrads(() => {
        const r = pair.lossFn(lossOpts) // outputs are read here, inside the tape's forward scope
        if (which === 'total') {
          const put = (name: string, a: Actual) => actual.set(name, a)
          const bn = (t: tf.Tensor, last?: number) => host(t, last === undefined ? [B, N] : [B, N, last])
          const dH = r.discriminator!.hiddenStates
          put(`${p}disc.embeddings`, bn(dH[0], H))
          // architectures that project their embeddings (ELECTRA) also give the LayerNorm output before it
          const dLn = (r.discriminator as {embeddingsLn?: tf.Tensor2D}).embeddingsLn
          if (dLn) put(`${p}disc.embeddings_ln`, bn(dLn, dLn.shape[1]))
          put(`${p}disc.hidden_states`, host(tf.stack(dH), [dH.length, B, N, H]))
          put(`${p}disc.last_hidden_state`, bn(dH[dH.length - 1], H))
          put(`${p}disc.rtd_logits`, bn(r.rtdLogits!))
          put(`${p}loss_rtd`, host(r.lossRtd!, [1]))
          put(`${p}loss_mlm`, host(r.lossMlm!, [1]))
          put(`${p}loss_total`, host(r.loss, [1]))
          if (opts.primary) {
            const gH = r.generator!.hiddenStates
            const gHid = fx.networks.configs.facts(fx.gen).hiddenSize
            put('gen.embeddings', host(gH[0], [B, N, gHid]))
            put('gen.hidden_states', host(tf.stack(gH), [gH.length, B, N, gHid]))
            put('gen.last_hidden_state', host(gH[gH.length - 1], [B, N, gHid]))
            put('gen.mlm_logits', host(r.mlmLogits!))
            put('loss_mlm', host(r.lossMlm!, [1]))
            put('inputs.disc_input_ids', {shape: [B, N], data: r.discInputIds})
            put('inputs.rtd_labels', {shape: [B, N], data: r.rtdLabels})
          }
          return r.loss
        }
        return which === 'mlm' ? r.lossMlm! : r.lossRtd!
      }, pair.variables())
      value.dispose()
      for (const [k, g] of Object.entries(grads)) {
        const id = pair.hfName(k)
        if (id) out.set(`${id.role}:${id.name}`, g)
      }
      return out
    }
    // a shared table's expected names (E_G, E_delta, ...) → the HF names of the generator's table and the discriminator's delta
    const generatorTables = pair.generator.embeddingTables()
    const shared = pair.discriminator.sharedTables()
    const tableTarget = (letter: string, which: string): {role: 'generator' | 'discriminator'; name: string} | undefined => {
      const table = TABLE_LETTERS[letter]
      if (which === 'G') {
        const v = generatorTables[table]
        const name = v === undefined ? undefined : pair.generator.params.nameOf(v.name)
        return name === undefined ? undefined : {role: 'generator', name}
      }
      const deltaName = shared.find((s) => s.name === table)?.deltaName
      return deltaName === undefined ? undefined : {role: 'discriminator', name: deltaName}
    }
    const gradTargets = new Map<string, {role: 'generator' | 'discriminator'; name: string}>()
    for (const name of wanted) {
      const m = new RegExp(`^${mode}\\.grad_(mlm|rtd|total)\\.(.+)$`).exec(name)
      if (!m) continue
      const t = m[2]
      const table = /^([EPT])_(G|delta)$/.exec(t)
      const target = table
        ? tableTarget(table[1], table[2])
        : t.startsWith('disc.')
              ? {role: 'discriminator' as const, name: t.slice(5)}
              : t.startsWith('gen.')
                ? {role: 'generator' as const, name: t.slice(4)}
                : undefined
      if (target) gradTargets.set(name, target)
    }
    for (const which of ['total', 'mlm', 'rtd'] as const) {
      const names = [...gradTargets.keys()].filter((n) => n.startsWith(`${p}grad_${which}.`))
      if (which !== 'total' && names.length === 0) continue
      const grads = gradsOf(which)
      for (const n of names) {
        const t = gradTargets.get(n)!
        const store = t.role === 'generator' ? pair.generator.params : pair.discriminator.params
        const v = store.vars.get(t.name)
        if (v === undefined) continue // not a parameter in this mode (reported as skipped)
        const g = grads.get(`${t.role}:${t.name}`)
        // No path from the loss to the variable: its gradient is exactly zero.
        actual.set(n, g ? host(g) : {shape: [...v.shape], data: new Float32Array(v.size)})
      }
      for (const g of grads.values()) g.dispose()
      await reads.read()
    }
    if (opts.primary && fx.networks.referenceTensors) {
      for (const [k, v] of await fx.networks.referenceTensors({generator: pair.generator, discriminator: pair.discriminator, seqLen: N, faults: opts.faults})) actual.set(k, v)
    }
    await reads.read()
  } finally {
    await reads.read().catch(() => undefined) // frees the copies after a failure
    pair.dispose()
  }
  return {actual, notes}
}

/** Which elements to compare: non-pad positions of [B, N, ...] and [L+1, B, N, ...] tensors, all others. */
function selector(shape: number[], mask: HostTensor): (flat: number) => boolean {
  const [B, N] = mask.shape
  const m = mask.data
  const size = shape.reduce((a, b) => a * b, 1)
  if (shape.length >= 2 && shape[0] === B && shape[1] === N) {
    const inner = size / (B * N)
    return (k) => m[Math.floor(k / inner)] !== 0
  }
  if (shape.length >= 3 && shape[1] === B && shape[2] === N) {
    const inner = size / (shape[0] * B * N)
    return (k) => m[Math.floor(k / inner) % (B * N)] !== 0
  }
  return () => true
}

export function compareTensor(opts: {name: string; actual: Actual; expected: HostTensor; tolerance: Tolerance; mask: HostTensor}): TensorCheck {
  const {name, actual, expected, tolerance: tol} = opts
  const base = {name, tolerance: tol, worstAbs: 0, worstRatio: 0, compared: 0}
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return {...base, status: 'fail', worstAbs: Infinity, worstRatio: Infinity, note: `shape ${JSON.stringify(actual.shape)} vs expected ${JSON.stringify(expected.shape)}`}
  }
  const use = selector(expected.shape, opts.mask)
  let worstAbs = 0
  let worstRatio = 0
  let compared = 0
  for (let k = 0; k < expected.data.length; k++) {
    if (!use(k)) continue
    compared++
    const e = expected.data[k]
    const a = actual.data[k]
    const diff = Math.abs(a - e)
    if (Number.isNaN(diff)) {
      worstAbs = worstRatio = Infinity
      continue
    }
    worstAbs = Math.max(worstAbs, diff)
    const allowed = tol.exact ? 0 : tol.atol + tol.rtol * Math.abs(e)
    worstRatio = Math.max(worstRatio, diff === 0 ? 0 : allowed === 0 ? Infinity : diff / allowed)
  }
  return {...base, status: worstRatio <= 1 ? 'pass' : 'fail', worstAbs, worstRatio, compared}
}

/**
 * Verifies the dump in `dir` on the current tfjs backend.
 * @param opts.faults test-only deliberate model bugs (each must make verification fail).
 * @param opts.registry where the architecture is looked up (default: the built-in plugins).
 */
export async function verifyFixture(opts: {dir: string; faults?: readonly ModelFault[]; registry?: PluginRegistry}): Promise<VerifyReport> {
  const fx = await loadFixture(opts.dir, opts.registry ?? new PluginRegistry())
  const mask = fx.inputs.get('attention_mask')
  if (mask === undefined || mask.shape.length !== 2) throw new RuntimeFailure(`${opts.dir}/inputs.safetensors needs attention_mask [B, N]`, {code: 'verify.fixture_incomplete'})
  const notes: string[] = []
  const wanted = new Set(fx.expected.keys())
  const primary = String(fx.rtd.embedding_sharing ?? 'gdes') as EmbeddingSharing
  const covered = [primary, ...((fx.rtd.vectors_also_cover as string[] | undefined) ?? [])]
  const modes = EMBEDDING_SHARING.filter((m) => covered.includes(m) || [...wanted].some((n) => n.startsWith(`${m}.`)))
  const actual = new Map<string, Actual>()
  for (const mode of modes) {
    const r = await runMode({fx, mode, faults: opts.faults, wanted, primary: mode === (modes.includes(primary) ? primary : modes[0])})
    for (const [k, v] of r.actual) actual.set(k, v)
    notes.push(...r.notes)
  }
  // Cross-check the host-side RTD bookkeeping against the stored inputs.
  const extra = new Map<string, HostTensor>()
  for (const k of ['disc_input_ids', 'rtd_labels']) {
    const t = fx.inputs.get(k)
    if (t) extra.set(`inputs.${k}`, t)
  }
  const checks: TensorCheck[] = []
  for (const [name, expected] of [...fx.expected, ...extra]) {
    const a = actual.get(name)
    const listed = fx.tolerances.get(name)
    const integer = expected.dtype.startsWith('I') || expected.dtype.startsWith('U') || expected.dtype === 'BOOL'
    const tolerance = name.startsWith('inputs.') || integer ? {atol: 0, rtol: 0, exact: true} : (listed ?? DEFAULT_TOLERANCE)
    if (a === undefined) {
      checks.push({name, status: 'skipped', worstAbs: NaN, worstRatio: NaN, compared: 0, note: 'not a tensor rtd knows how to compute'})
      continue
    }
    if (!listed && !name.startsWith('inputs.')) notes.push(`${name}: no tolerance row in README.md; used atol ${tolerance.atol}, rtol ${tolerance.rtol}`)
    checks.push(compareTensor({name, actual: a, expected, tolerance, mask}))
  }
  for (const name of fx.tolerances.keys()) {
    if (!fx.expected.has(name) && !fx.inputs.has(name)) {
      checks.push({name, status: 'missing', worstAbs: NaN, worstRatio: NaN, compared: 0, note: 'listed in README.md but absent from expected.safetensors'})
    }
  }
  const passed = checks.every((c) => c.status === 'pass' || c.status === 'skipped') && checks.some((c) => c.status === 'pass')
  return {dir: opts.dir, backend: tf.getBackend(), passed, checks, notes}
}
