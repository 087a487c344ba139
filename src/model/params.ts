/**
 * The parameters of one model (generator or discriminator) as tf.Variables keyed by their
 * Hugging Face name (`deberta.encoder.layer.0.attention.self.query_proj.weight`), in PyTorch
 * layout ([out, in] for Linear weights), so loading and export map one to one.
 */
import * as tf from '#tfjs'
import {RuntimeFailure} from '../errors.js'
import {initialValues, type InitKind} from './init.js'

/**
 * A process-wide counter for unique variable-name prefixes. Kept on globalThis, not in this
 * module: tfjs's variable registry is global, and a second copy of this module (loaded under
 * another URL, e.g. from dist/ and from src/ in one test process) must not reuse a prefix.
 */
const COUNTER = Symbol.for('rtd.paramStoreInstances')
function nextInstance(): number {
  const g = globalThis as unknown as Record<symbol, number>
  g[COUNTER] = (g[COUNTER] ?? 0) + 1
  return g[COUNTER]
}

export class ParamStore {
  /** HF name → variable. */
  readonly vars = new Map<string, tf.Variable>()
  private readonly uid: string

  /**
   * @param opts.role 'generator' | 'discriminator' | any label: part of the init stream key and of the tf variable names.
   * @param opts.seed init seed. @param opts.std init std (initializer_range).
   */
  constructor(readonly opts: {role: string; seed: number; std: number}) {
    this.uid = `rtd${nextInstance()}/${opts.role}`
  }

  /** Parameter name -> the head it belongs to (`MLM head`, `RTD head`); encoder parameters are absent. */
  private readonly heads = new Map<string, string>()

  /**
   * Creates and initialises a variable (see init.ts); returns it. `opts.head` marks a parameter
   * of a prediction head: a starting checkpoint that lacks that whole head keeps its fresh
   * initialisation (model/fresh-heads.ts) instead of failing.
   */
  create(name: string, shape: number[], kind: InitKind, opts: {head?: string} = {}): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} created twice`)
    if (opts.head !== undefined) this.heads.set(name, opts.head)
    const values = initialValues({shape, kind, std: this.opts.std, seed: this.opts.seed, role: this.opts.role, name})
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `${this.uid}/${name}`))
    this.vars.set(name, v)
    return v
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name)
    if (v === undefined) throw new Error(`no parameter ${name}`)
    return v
  }

  /** The head a parameter belongs to, or undefined for the encoder's. */
  headOf(name: string): string | undefined {
    return this.heads.get(name)
  }

  /** HF name of a variable of this store (by tf variable name), or undefined. */
  nameOf(tfName: string): string | undefined {
    const prefix = `${this.uid}/`
    return tfName.startsWith(prefix) && this.vars.has(tfName.slice(prefix.length)) ? tfName.slice(prefix.length) : undefined
  }

  /** Copies host values into a variable after checking the shape. */
  assign(name: string, t: {shape: number[]; data: Float32Array | Int32Array}): void {
    const v = this.get(name)
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new RuntimeFailure(`tensor ${name}: shape ${JSON.stringify(t.shape)} does not match the model's ${JSON.stringify(v.shape)}`, {
        code: 'model.shape_mismatch',
      })
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')))
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose()
    this.vars.clear()
  }
}
