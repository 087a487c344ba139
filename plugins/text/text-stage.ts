import {defaultTokenizers} from '../../src/data/default-tokenizers.js'
import {prepareData, type DataOptions} from '../../src/data/prepare-data.js'
import type {RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'

/** Options after schema defaults (see schema.json). */
export type TextOptions = DataOptions

export function createTextStage(options: TextOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const resolvePath = (p: string) => ctx.resolvePath(p)
      const data = await prepareData({
        options,
        cacheDir: ctx.cacheDir,
        seed: ctx.seed,
        resolvePath,
        tokenizers: defaultTokenizers({resolvePath}),
        signal: ctx.signal,
        log: ctx.log,
        progress: (o) => ctx.progress(o),
      })
      state.data = data
      state.outputs = {...state.outputs, shards: data.shardDir, tokenizer: data.tokenizerDir}
      ctx.metrics.write({
        stage: 'data',
        cache_hit: data.cacheHit,
        train_sequences: data.train.rows,
        train_tokens: data.train.tokens,
        eval_sequences: data.eval?.rows ?? 0,
        eval_tokens: data.eval?.tokens ?? 0,
        shards_key: data.manifest.key, // rtd diff: same key = same shards
      })
    },
  }
}
