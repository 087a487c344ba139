/**
 * The networks half of the architecture contract (src/plugin/architecture.ts has the plugin
 * half and the overview): what an architecture's `load()` returns and the objectives (gdes,
 * mlm) use. Here in src/model, with no tensors of its own, so the model code implements it
 * without importing src/plugin; src/plugin/architecture.ts re-exports all of it.
 */
import type * as tf from '#tfjs'
import type {HostTensorLike} from './hf-tensors.js'
import type {ForwardContext, ModelFault, Recompute} from './nn.js'
import type {EncoderShape} from '../runtime/memory-estimate.js'

export type {EncoderShape, ForwardContext, HostTensorLike, Recompute}

/** Encoder output: hidden states, index 0 = embeddings output, index l = layer l; each [B·N, H]. */
export interface EncoderOutput {
  hiddenStates: tf.Tensor2D[]
  /** = hiddenStates[L], [B·N, H]. */
  last: tf.Tensor2D
  /** Further tensors the output owns (disposed with it), e.g. ELECTRA's projected embeddings. */
  extra?: tf.Tensor[]
}

/** What objectives and checks need to know of any config. */
export interface ConfigFacts {
  /** Rows of the word table. */
  vocabSize: number
  /** Width of the word table (what sharing compares). */
  embeddingSize: number
  hiddenSize: number
  numHiddenLayers: number
  /** The longest sequence the model reads (its position table, or its relative span). */
  maxPositions: number
  padTokenId: number
}

/** Generator size relative to the discriminator (SPEC A.2; ELECTRA's narrower generator is width < 1). */
export interface GeneratorShape {
  /** Fraction of the discriminator's layers (rounded, at least 1). */
  depth: number
  /** Fraction of the discriminator's hidden size, heads and FFN width. */
  width: number
}

/** Pure functions on an architecture's config type C (no tensors; safe in `rtd validate`/`rtd plan`). */
export interface ArchitectureConfigs<C> {
  /** config.json (HF names) -> C; `where` names the file in errors. */
  parse(json: Record<string, unknown>, where: string): C
  /** C -> config.json, with `model_type`. */
  toHf(config: C): Record<string, unknown>
  /** `model.config` of a pipeline (validated by the plugin's schema, defaults filled in) -> C. */
  fromScratch(options: Record<string, unknown>, tokenizerVocabSize: number): C
  /** The generator's config derived from the discriminator's. Its shared tables must keep their shapes. */
  generator(discriminator: C, shape: GeneratorShape): C
  facts(config: C): ConfigFacts
  /** The memory/FLOP shape for the memory check and `rtd plan` (runtime/memory-estimate.ts). */
  shape(config: C): EncoderShape
}

/** Embedding tables an architecture can share between generator and discriminator. */
export const TABLE_NAMES = ['word', 'position', 'token_type'] as const
export type TableName = (typeof TABLE_NAMES)[number]

/** How a discriminator reads a generator's tables: `es` the tables themselves, `gdes` stopgrad(table) + its own zero-init delta. */
export interface TableShare {
  mode: 'es' | 'gdes'
  tables: Partial<Record<TableName, tf.Variable>>
}

/** One table a discriminator reads from its generator. */
export interface SharedTable {
  name: TableName
  /** HF name of the (merged) table in an export, e.g. `deberta.embeddings.word_embeddings.weight`. */
  hfName: string
  mode: 'es' | 'gdes'
  /** The generator's table. */
  source: tf.Variable
  /** GDES: the discriminator's delta, zero at init. */
  delta?: tf.Variable
  /** GDES: HF name of the delta (`..._weight`, as in DeBERTa's released checkpoints). */
  deltaName?: string
}

/** Parameters keyed by Hugging Face name, in PyTorch layout ([out, in] for Linear weights). */
export interface NamedParameters {
  readonly vars: ReadonlyMap<string, tf.Variable>
  /** HF name of a variable of this model (by tf variable name, as in tf.variableGrads' result). */
  nameOf(tfName: string): string | undefined
  /**
   * The prediction head a parameter belongs to (e.g. `MLM head`, `RTD head`), undefined for the
   * encoder's. A starting checkpoint that lacks a whole head (a discriminator export has no MLM
   * head) then gets that head freshly initialised with a warning naming its tensors, instead of
   * failing (model/fresh-heads.ts). ParamStore provides it (`create(..., {head})`).
   */
  headOf?(name: string): string | undefined
}

export interface EncoderInputs {
  /** int32 [B, N]. */
  inputIds: tf.Tensor2D
  /** float32 [B, N]: 1 = token, 0 = padding. */
  mask: tf.Tensor2D
  /** int32 [B, N]; default zeros. */
  tokenTypeIds?: tf.Tensor2D
  ctx: ForwardContext
}

/** A bare encoder (HF `<Arch>Model`): what a fine-tuning head sits on. */
export interface EncoderNet<C> {
  readonly config: C
  readonly params: NamedParameters
  apply(inputs: EncoderInputs): EncoderOutput
  variables(): tf.Variable[]
  /** Loads HF-named tensors (a checkpoint of this encoder or of a model around it); returns notes on ignored keys. */
  loadTensors(tensors: Map<string, HostTensorLike>): string[]
  exportTensors(): Map<string, HostTensorLike>
  dispose(): void
}

export interface MaskedLmLossOptions {
  /** int32 [B·N] input with the masked positions replaced. */
  maskedInputIds: Int32Array
  attentionMask: Int32Array | Float32Array
  /** [B·N], 1 at the positions to predict. */
  mlmMask: Int32Array | Uint8Array
  /** int32 [M]: the original ids at the masked positions, row-major. */
  labels: Int32Array
  batch: number
  seqLen: number
  tokenTypeIds?: Int32Array
  ctx: ForwardContext
  /** Keep logits and hidden states past the caller's tidy scope (then dispose them). */
  keep?: boolean
}

/** Encoder + MLM head with the decoder tied to the word table: the RTD generator, or the `mlm` model. */
export interface MaskedLmNet<C> {
  readonly config: C
  readonly params: NamedParameters
  /** The tables a discriminator may share (word always; position/token type where the architecture has and shares them). */
  embeddingTables(): Partial<Record<TableName, tf.Variable>>
  /** Mean CE over the masked positions (0 when none); logits [M, V] at the masked positions only. */
  lossFn(opts: MaskedLmLossOptions): {loss: tf.Scalar; logits: tf.Tensor2D; encoder: EncoderOutput}
  /** Layer recomputation of a training step at this shape when the caller does not say. */
  recomputes(batch: number, seqLen: number): Recompute
  loadTensors(tensors: Map<string, HostTensorLike>): string[]
  exportTensors(): Map<string, HostTensorLike>
  variables(): tf.Variable[]
  dispose(): void
}

/** Encoder + RTD head: one logit per token. */
export interface DiscriminatorNet<C> {
  readonly config: C
  readonly params: NamedParameters
  forward(inputs: EncoderInputs): {encoder: EncoderOutput; logits: tf.Tensor2D}
  /** The tables read from the generator (empty under nes), in a fixed order. */
  sharedTables(): SharedTable[]
  /** The embedding tables this model owns (under nes all of them; the shared ones are not its own). */
  ownTables(): Partial<Record<TableName, tf.Variable>>
  /** Checkpoint names as this model's params name them (e.g. a bare encoder's file without the model prefix). */
  canonicalNames<T>(tensors: Map<string, T>): Map<string, T>
  /** Loads canonical HF-named tensors; keys `ignore` accepts (and documented extras) are skipped with a note. */
  loadTensors(tensors: Map<string, HostTensorLike>, opts?: {ignore?: (name: string) => boolean}): string[]
  dispose(): void
}

/**
 * What `load()` of an architecture plugin returns. G and D are the concrete network classes
 * (code that knows the architecture, e.g. its tests, sees them; objectives see the contract).
 */
export interface ArchitectureNetworks<C = any, G extends MaskedLmNet<C> = MaskedLmNet<C>, D extends DiscriminatorNet<C> = DiscriminatorNet<C>> {
  readonly name: string
  /**
   * URL of a module whose export `architecture` is this object: data-parallel worker threads
   * import it to build their replicas (functions cannot be posted to a worker).
   */
  readonly module: string
  readonly configs: ArchitectureConfigs<C>
  /** HF `architectures` written to exported config.json files. */
  readonly hfArchitectures: {encoder: string; maskedLm: string; discriminator?: string}
  createEncoder(opts: {config: C; seed: number; role?: string}): EncoderNet<C>
  /** @param opts.role init-stream label and variable-name part; default 'generator'. */
  createMaskedLm(opts: {config: C; seed: number; role?: string}): G
  createDiscriminator(opts: {config: C; seed: number; share?: TableShare}): D
  /**
   * Generator weights from a discriminator checkpoint: its embeddings and first `layers` layers
   * (how a same-width, shallower generator is warm-started). Omit when that is meaningless.
   */
  generatorTensorsFromDiscriminator?(tensors: Map<string, HostTensorLike>, layers: number): Map<string, HostTensorLike>
  /** Extra config.json fields an exported masked-LM needs to load in `transformers` (e.g. DeBERTa's legacy=false). */
  maskedLmConfigExtras?: Record<string, unknown>
  /**
   * Architecture-specific tensors a reference dump may hold besides the common forward outputs,
   * losses and gradients (`rtd verify`), by expected-tensor name, e.g. DeBERTa's relative
   * position tables. `faults` are verify's deliberate bugs (each must show up somewhere).
   */
  referenceTensors?(opts: {generator: G; discriminator: D; seqLen: number; faults?: readonly ModelFault[]}): Map<string, HostTensorLike> | Promise<Map<string, HostTensorLike>>
}
