/**
 * A restricted Python unpickler: it interprets the opcodes a PyTorch state dict uses
 * (protocols 2-5) and NEVER executes anything. A GLOBAL / STACK_GLOBAL is accepted only when
 * the caller's allow-list names it; the allow-list maps it to a plain JS function (REDUCE calls
 * that function with the argument tuple). Anything else is rejected at the moment the pickle
 * names it, with the module.attr and the file in the message.
 * Opcode reference: CPython Lib/pickletools.py.
 */
import {RuntimeFailure} from '../errors.js'

/** A Python value as decoded here: dicts are Maps, lists and tuples are arrays. */
export type PyValue = unknown

/** A global the pickle named and the allow-list accepted. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** What REDUCE(global, args) returns; absent for globals only used as markers (dtypes, storage types). */
    readonly call?: (args: PyValue[]) => PyValue,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`
  }
}

export interface AllowedGlobal {
  /** Called by REDUCE with the argument tuple. Omit for markers (storage types, dtypes). */
  call?: (args: PyValue[]) => PyValue
}

export interface UnpickleOptions {
  data: Uint8Array
  /** Used in error messages. */
  file: string
  /** Allowed globals by "module.attr". */
  allowed: Record<string, AllowedGlobal>
  /** BINPERSID handler (PyTorch storages). Without it, persistent ids are rejected. */
  persistentLoad?: (pid: PyValue) => PyValue
}

const MARK = Symbol('mark')

/** Decode one pickle; returns the top-level object. */
export function unpickle(opts: UnpickleOptions): PyValue {
  const {data, file, allowed} = opts
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const stack: PyValue[] = []
  const memo = new Map<number, PyValue>()
  let p = 0

  const fail = (msg: string, code = 'pickle.corrupt'): never => {
    throw new RuntimeFailure(`${file}: ${msg}`, {code})
  }
  const need = (n: number): void => {
    if (p + n > data.length) fail(`pickle truncated at byte ${p}`)
  }
  const u8 = (): number => (need(1), data[p++])
  const u16 = (): number => (need(2), (p += 2), view.getUint16(p - 2, true))
  const i32 = (): number => (need(4), (p += 4), view.getInt32(p - 4, true))
  const u32 = (): number => (need(4), (p += 4), view.getUint32(p - 4, true))
  const u64 = (): number => {
    need(8)
    const v = view.getBigUint64(p, true)
    p += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} too large`)
    return Number(v)
  }
  const bytes = (n: number): Uint8Array => (need(n), (p += n), data.subarray(p - n, p))
  const utf8 = (n: number): string => Buffer.from(bytes(n)).toString('utf8')
  const line = (): string => {
    const end = data.indexOf(0x0a, p)
    if (end < 0) fail('unterminated text line')
    const s = Buffer.from(data.subarray(p, end)).toString('latin1')
    p = end + 1
    return s
  }
  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow')
    return stack.pop()
  }
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK)
    if (i < 0) fail('MARK missing')
    const items = stack.splice(i)
    items.shift()
    return items
  }
  const top = (): PyValue => {
    if (stack.length === 0) fail('stack underflow')
    return stack[stack.length - 1]
  }
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`
    const a = Object.hasOwn(allowed, q) ? allowed[q] : undefined
    if (!a) {
      throw new RuntimeFailure(
        `${file}: the pickle refers to ${q}, which is not on the allow-list of a PyTorch state dict; refusing to load it (nothing was executed)`,
        {code: 'pickle.forbidden_global', suggestions: ['Only load checkpoints you trust; convert it to safetensors with Python (safetensors.torch.save_file) if it is genuine', `allowed: ${Object.keys(allowed).join(', ')}`]},
      )
    }
    return new PyGlobal(module, name, a.call)
  }
  const setItems = (target: PyValue, kv: PyValue[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict')
    const m = target as Map<PyValue, PyValue>
    for (let i = 0; i + 1 < kv.length; i += 2) m.set(kv[i], kv[i + 1])
  }
  const append = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list')
    ;(target as PyValue[]).push(...items)
  }
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0
    let v = 0n
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i])
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length)
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  }

  for (;;) {
    const at = p
    const op = u8()
    switch (op) {
      case 0x80: // PROTO
        u8()
        break
      case 0x95: // FRAME (length only; frames are contiguous here)
        u64()
        break
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack`)
        return stack[0]
      case 0x28: // MARK
        stack.push(MARK)
        break
      case 0x7d: // EMPTY_DICT
        stack.push(new Map())
        break
      case 0x5d: // EMPTY_LIST
        stack.push([])
        break
      case 0x29: // EMPTY_TUPLE
        stack.push([])
        break
      case 0x64: {
        // DICT
        const m = new Map()
        setItems(m, popMark())
        stack.push(m)
        break
      }
      case 0x6c: // LIST
      case 0x74: // TUPLE
        stack.push(popMark())
        break
      case 0x85: // TUPLE1
        stack.push([pop()])
        break
      case 0x86: {
        // TUPLE2
        const b = pop()
        stack.push([pop(), b])
        break
      }
      case 0x87: {
        // TUPLE3
        const c = pop()
        const b = pop()
        stack.push([pop(), b, c])
        break
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()))
        break
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()))
        break
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()))
        break
      case 0x54: // BINSTRING (py2 str)
        stack.push(Buffer.from(bytes(i32())).toString('latin1'))
        break
      case 0x55: // SHORT_BINSTRING
        stack.push(Buffer.from(bytes(u8())).toString('latin1'))
        break
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice())
        break
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice())
        break
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice())
        break
      case 0x4a: // BININT
        stack.push(i32())
        break
      case 0x4b: // BININT1
        stack.push(u8())
        break
      case 0x4d: // BININT2
        stack.push(u16())
        break
      case 0x8a: // LONG1
        stack.push(long(bytes(u8())))
        break
      case 0x8b: // LONG4
        stack.push(long(bytes(u32())))
        break
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8)
        stack.push(view.getFloat64(p, false))
        p += 8
        break
      }
      case 0x88: // NEWTRUE
        stack.push(true)
        break
      case 0x89: // NEWFALSE
        stack.push(false)
        break
      case 0x4e: // NONE
        stack.push(null)
        break
      case 0x73: {
        // SETITEM
        const v = pop()
        const k = pop()
        setItems(top(), [k, v])
        break
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark()
        setItems(top(), kv)
        break
      }
      case 0x61: {
        // APPEND
        const v = pop()
        append(top(), [v])
        break
      }
      case 0x65: {
        // APPENDS
        const items = popMark()
        append(top(), items)
        break
      }
      case 0x71: // BINPUT
        memo.set(u8(), top())
        break
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top())
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, top())
        break
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32()
        if (!memo.has(k)) fail(`memo key ${k} missing`)
        stack.push(memo.get(k))
        break
      }
      case 0x30: // POP
        pop()
        break
      case 0x31: // POP_MARK
        popMark()
        break
      case 0x32: // DUP
        stack.push(top())
        break
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line()
        const name = line()
        stack.push(resolveGlobal(module, name))
        break
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings')
        stack.push(resolveGlobal(module as string, name as string))
        break
      }
      case 0x52: {
        // REDUCE: callable(*args), only for allow-listed JS functions
        const args = pop()
        const fn = pop()
        if (!(fn instanceof PyGlobal)) fail(`REDUCE on something that is not an allowed global (byte ${at})`)
        const g = fn as PyGlobal
        if (!g.call) fail(`${g.qualifiedName} is allowed as a value but not as a call`, 'pickle.forbidden_global')
        if (!Array.isArray(args)) fail(`REDUCE of ${g.qualifiedName} without an argument tuple`)
        stack.push(g.call!(args as PyValue[]))
        break
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state). Only a dict's attributes (OrderedDict._metadata) are
        // expected here; they carry no tensor data, so they are dropped.
        const state = pop()
        const obj = top()
        if (!(obj instanceof Map)) fail(`BUILD on an unsupported object (byte ${at})`)
        void state
        break
      }
      case 0x51: {
        // BINPERSID
        const pid = pop()
        if (!opts.persistentLoad) fail('persistent id found but no storage loader given')
        stack.push(opts.persistentLoad!(pid))
        break
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) at byte ${at}; a PyTorch state dict does not need it`, 'pickle.unsupported_opcode')
    }
  }
}
