/**
 * PyTorch `.bin` / `.pt` state dicts in torch.save's zip format (torch >= 1.6):
 *   <prefix>/data.pkl      the pickled OrderedDict {name: tensor}
 *   <prefix>/data/<key>    raw little-endian bytes of each storage
 *   <prefix>/version, <prefix>/byteorder (newer torch)
 * A tensor is pickled as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
 * where `storage` is the persistent id ('storage', torch.HalfStorage, key, location, numel).
 * Nothing is executed: the unpickler only maps the allow-listed globals below to JS functions.
 * Reference: torch/serialization.py (_save, _load), torch/_utils.py (_rebuild_tensor_v2).
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {RuntimeFailure} from '../errors.js'
import {type AllowedGlobal, PyGlobal, type PyValue, unpickle} from './pickle.js'
import {decodeTensorBytes, type HostTensor, type SafetensorsDtype} from './safetensors.js'
import {isZipFile, ZipReader} from './zip.js'

/** Legacy storage classes -> element dtype (the names torch pickles for typed storages). */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  HalfStorage: 'F16',
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
}

/** torch dtypes, in case a pickle names one (e.g. in tensor metadata). */
const TORCH_DTYPES = ['float16', 'float32', 'float64', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'half', 'float', 'double', 'long', 'int'] as const

const BYTES: Record<SafetensorsDtype, number> = {F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1}

interface StorageRef {
  kind: 'storage'
  dtype: SafetensorsDtype
  key: string
  numel: number
}

/** A tensor view as the pickle describes it; materialised after unpickling. */
class TensorValue {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** Read every tensor of a PyTorch zip-format state dict. */
export function readPytorchBin(opts: {file: string}): {tensors: Map<string, HostTensor>} {
  const {file} = opts
  if (!isZipFile({file})) throw notZipError(file)
  const zip = ZipReader.open({file})
  try {
    const pkl = [...zip.entries.keys()].find((n) => n.endsWith('data.pkl') && n.split('/').length === 2)
    if (!pkl) throw new RuntimeFailure(`${file}: a zip archive without <name>/data.pkl; not a torch.save checkpoint (entries: ${[...zip.entries.keys()].slice(0, 8).join(', ')})`, {code: 'checkpoint.bin_format'})
    const prefix = pkl.slice(0, -'data.pkl'.length)
    const bo = zip.entries.has(`${prefix}byteorder`) ? zip.read(`${prefix}byteorder`).toString('utf8').trim() : 'little'
    if (bo !== 'little') throw new RuntimeFailure(`${file}: storages are ${bo}-endian; only little-endian checkpoints are supported`, {code: 'checkpoint.bin_format'})

    const rebuildTensor = (args: PyValue[]): TensorValue => {
      const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]]
      if (!storage || (storage as StorageRef).kind !== 'storage') throw new RuntimeFailure(`${file}: _rebuild_tensor_v2 without a storage`, {code: 'checkpoint.bin_corrupt'})
      if (!Array.isArray(size) || !Array.isArray(stride) || typeof offset !== 'number' || size.length !== stride.length) throw new RuntimeFailure(`${file}: _rebuild_tensor_v2 with malformed size/stride/offset`, {code: 'checkpoint.bin_corrupt'})
      return new TensorValue(storage, offset, size.map(Number), stride.map(Number))
    }

    const allowed: Record<string, AllowedGlobal> = {
      'collections.OrderedDict': {call: (args) => new Map((args[0] as [PyValue, PyValue][] | undefined) ?? [])},
      'torch._utils._rebuild_tensor_v2': {call: rebuildTensor},
      // Parameter(data): the tensor itself is all we need
      'torch._utils._rebuild_parameter': {call: (args) => args[0]},
      'torch._utils._rebuild_parameter_with_state': {call: (args) => args[0]},
    }
    for (const s of Object.keys(STORAGE_DTYPES)) allowed[`torch.${s}`] = {}
    for (const d of TORCH_DTYPES) allowed[`torch.${d}`] = {}

    const persistentLoad = (pid: PyValue): StorageRef => {
      const t = pid as PyValue[]
      if (!Array.isArray(t) || t[0] !== 'storage' || t.length < 5) throw new RuntimeFailure(`${file}: unsupported persistent id ${JSON.stringify(t)}`, {code: 'checkpoint.bin_corrupt'})
      const [, type, key, , numel] = t
      const dtype = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_DTYPES[type.name] : undefined
      if (!dtype) throw new RuntimeFailure(`${file}: storage ${String(key)} has unsupported type ${type instanceof PyGlobal ? type.qualifiedName : String(type)}`, {code: 'checkpoint.bin_dtype'})
      return {kind: 'storage', dtype, key: String(key), numel: Number(numel)}
    }

    const root = unpickle({data: zip.read(pkl), file, allowed, persistentLoad})
    const views = collectTensors(root, file)

    // Decode each storage once, when first needed, and drop it after its last view, so peak
    // memory stays near one copy of the weights. A view that is its whole storage takes the
    // decoded array itself.
    const remaining = new Map<string, number>()
    for (const v of views.values()) remaining.set(v.storage.key, (remaining.get(v.storage.key) ?? 0) + 1)
    const decoded = new Map<string, Float32Array | Int32Array>()
    const tensors = new Map<string, HostTensor>()
    for (const [name, v] of views) {
      const s = v.storage
      let data = decoded.get(s.key)
      if (!data) {
        const raw = zip.read(`${prefix}data/${s.key}`)
        const want = s.numel * BYTES[s.dtype]
        if (raw.length < want) throw new RuntimeFailure(`${file}: storage ${s.key} has ${raw.length} bytes, expected ${want} (${s.numel} × ${s.dtype})`, {code: 'checkpoint.bin_corrupt'})
        data = decodeTensorBytes({dtype: s.dtype, shape: [s.numel], bytes: raw.subarray(0, want), name: `storage ${s.key}`, file})
        decoded.set(s.key, data)
      }
      const left = remaining.get(s.key)! - 1
      remaining.set(s.key, left)
      if (left === 0) decoded.delete(s.key)
      tensors.set(name, {dtype: s.dtype, shape: [...v.size], data: gatherStrided({data, offset: v.offset, size: v.size, stride: v.stride, file, mayAlias: left === 0})})
    }
    return {tensors}
  } finally {
    zip.close()
  }
}

/** The state dict's tensors; also accepts the common {state_dict: {...}} / {model: {...}} wrappers. */
function collectTensors(root: PyValue, file: string): Map<string, TensorValue> {
  if (!(root instanceof Map)) throw new RuntimeFailure(`${file}: the pickle holds a ${Array.isArray(root) ? 'list' : typeof root}, not a state dict (a dict of tensors)`, {code: 'checkpoint.bin_format'})
  const hasTensors = [...root.values()].some((v) => v instanceof TensorValue)
  if (!hasTensors) {
    for (const k of ['state_dict', 'model']) if (root.get(k) instanceof Map) return collectTensors(root.get(k), file)
  }
  const out = new Map<string, TensorValue>()
  for (const [k, v] of root) {
    if (!(v instanceof TensorValue)) throw new RuntimeFailure(`${file}: entry ${String(k)} of the state dict is not a tensor`, {code: 'checkpoint.bin_format'})
    out.set(String(k), v)
  }
  return out
}

/** Copy a (possibly non-contiguous) view of a storage into a fresh row-major array. */
function gatherStrided(opts: {
  data: Float32Array | Int32Array
  offset: number
  size: number[]
  stride: number[]
  file: string
  /** No other view needs `data`: return it as is when the view is all of it. */
  mayAlias: boolean
}): Float32Array | Int32Array {
  const {data, offset, size, stride, file} = opts
  const n = size.reduce((a, b) => a * b, 1)
  const Ctor = data instanceof Float32Array ? Float32Array : Int32Array
  if (n === 0) return new Ctor(0)
  let maxIndex = offset
  for (let i = 0; i < size.length; i++) maxIndex += (size[i] - 1) * stride[i]
  if (maxIndex >= data.length || offset < 0) throw new RuntimeFailure(`${file}: tensor view (offset ${offset}, size ${JSON.stringify(size)}, stride ${JSON.stringify(stride)}) reaches past its storage of ${data.length} elements`, {code: 'checkpoint.bin_corrupt'})
  let contiguous = true
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) contiguous = false
    expect *= size[i]
  }
  if (contiguous) return opts.mayAlias && offset === 0 && n === data.length ? data : data.slice(offset, offset + n)
  const out = new Ctor(n)
  const idx = new Array<number>(size.length).fill(0)
  for (let o = 0; o < n; o++) {
    let src = offset
    for (let d = 0; d < size.length; d++) src += idx[d] * stride[d]
    out[o] = data[src]
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break
      idx[d] = 0
    }
  }
  return out
}

function notZipError(file: string): RuntimeFailure {
  const fd = openSync(file, 'r')
  const head = Buffer.alloc(512)
  let n = 0
  try {
    n = readSync(fd, head, 0, 512, 0)
  } finally {
    closeSync(fd)
  }
  // legacy torch.save (< 1.6) starts with a protocol-2 pickle of a magic number; the older tar format has "ustar" at 257
  const legacyPickle = n >= 2 && head[0] === 0x80 && head[1] === 0x02
  const tar = n >= 262 && head.toString('latin1', 257, 262) === 'ustar'
  if (legacyPickle || tar) {
    return new RuntimeFailure(`${file}: this is the legacy (pre-1.6, non-zip) torch.save format, which rtd does not read`, {
      code: 'checkpoint.bin_legacy',
      suggestions: [
        'Re-save it with a current PyTorch: torch.save(torch.load(f, map_location="cpu"), "pytorch_model.bin")',
        'or convert it to safetensors: safetensors.torch.save_file(torch.load(f), "model.safetensors")',
      ],
    })
  }
  return new RuntimeFailure(`${file}: not a PyTorch checkpoint (no zip signature, no pickle header)`, {code: 'checkpoint.bin_format'})
}
