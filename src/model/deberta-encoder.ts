/** A bare DebertaV2Model with its own parameters: the architecture contract's encoder (for heads such as fine-tuning). */
import type * as tf from '#tfjs'
import type {EncoderInputs, EncoderNet, EncoderOutput} from './architecture.js'
import type {DebertaConfig} from './config.js'
import {DebertaModel} from './deberta-model.js'
import {isDocumentedExtra, loadIntoStore, toHost, withDebertaPrefix, type HostTensorLike} from './hf-tensors.js'
import {ParamStore} from './params.js'

export class DebertaEncoder implements EncoderNet<DebertaConfig> {
  readonly params: ParamStore
  readonly deberta: DebertaModel

  constructor(readonly opts: {config: DebertaConfig; seed: number; role?: string}) {
    this.params = new ParamStore({role: opts.role ?? 'encoder', seed: opts.seed, std: opts.config.initializerRange})
    this.deberta = new DebertaModel({config: opts.config, params: this.params})
  }

  get config(): DebertaConfig {
    return this.opts.config
  }

  apply(inputs: EncoderInputs): EncoderOutput {
    return this.deberta.apply(inputs)
  }

  variables(): tf.Variable[] {
    return [...this.params.vars.values()]
  }

  /** `deberta.*` tensors of any DeBERTa checkpoint; its heads (`lm_predictions.*`, `mask_predictions.*`) are ignored with a note. */
  loadTensors(tensors: Map<string, HostTensorLike>): string[] {
    const isHead = (k: string) => /^(lm_predictions|mask_predictions|cls)\./.test(k)
    return loadIntoStore({store: this.params, tensors: withDebertaPrefix(tensors), role: 'encoder', isDocumentedExtra: (k) => isHead(k) || isDocumentedExtra(k, 'generator')})
  }

  exportTensors(): Map<string, HostTensorLike> {
    const out = new Map<string, HostTensorLike>()
    for (const [k, v] of this.params.vars) out.set(k, toHost(v))
    return out
  }

  dispose(): void {
    this.params.dispose()
  }
}
