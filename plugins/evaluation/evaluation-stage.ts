/**
 * Scores a model stage's model on the eval split. Sums over the whole split (never means of
 * batch means); masks and samples derive from (seed, batch index), and batches come in file
 * order, so two evaluations of the same weights give identical numbers.
 */
import {BatchIterator} from '../../src/data/batch-iterator.js'
import type {PreparedData} from '../../src/data/prepared-data.js'
import {ConfigError} from '../../src/errors.js'
import {RtdMetricsAccumulator} from '../../src/eval/rtd-metrics.js'
import type {RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {isEvaluable} from '../../src/pretrain/index.js'
import {formatMetricsTable} from './format-metrics-table.js'

export interface EvaluationOptions {
  batch_size?: number
  max_batches: number
  seed?: number
}

export function createEvaluationStage(options: EvaluationOptions, ctx: RunContext): Stage {
  const batchSize = options.batch_size ?? Number(ctx.pipeline.schedule?.batch_size ?? 8)
  const seed = options.seed ?? ctx.seed
  const evaluate = async (model: unknown, data: unknown, opts: {step: number; final: boolean}): Promise<Record<string, number>> => {
    if (!isEvaluable(model)) throw new ConfigError('the evaluation stage needs a model stage whose model can be evaluated (plugin gdes or mlm)', {code: 'evaluation.no_model'})
    const prepared = data as PreparedData
    if (!prepared?.eval || prepared.eval.rows === 0) {
      throw new ConfigError('the evaluation stage needs a held-out split: set data.eval_fraction > 0', {code: 'evaluation.no_eval_split'})
    }
    const it = new BatchIterator({shards: prepared.eval, batchSize, seed, maxLength: prepared.maxLength, padId: prepared.tokenizer.special.pad, shuffle: false, epochs: 1})
    const acc = new RtdMetricsAccumulator()
    const limit = options.max_batches > 0 ? options.max_batches : Infinity
    const total = Math.min(limit, it.batchesPerEpoch)
    const bar = ctx.progress({label: opts.final ? 'eval (final)' : `eval @${opts.step}`, total, unit: 'batches'})
    try {
      for (let index = 0; index < total; index++) {
        const batch = it.next()
        if (!batch) break
        const out = model.evaluateBatch(batch, {seed, index})
        if (out.discriminator) acc.addDiscriminator(out.discriminator)
        if (out.generator) acc.addGenerator(out.generator)
        bar.update(index + 1)
        await new Promise((r) => setImmediate(r)) // let Ctrl-C through
      }
    } finally {
      bar.stop()
    }
    const metrics = acc.result()
    if (opts.final) ctx.log.info(`final evaluation (step ${opts.step}):\n${formatMetricsTable(metrics)}`)
    return metrics
  }
  return {
    evaluate,
    async run(state: RunState) {
      if (state.metrics) return // the model stage already ran the final evaluation through state.evaluate
      if (!state.model) throw new ConfigError('the evaluation stage needs a model stage before it', {code: 'evaluation.no_model'})
      state.metrics = await evaluate(state.model, state.data, {step: -1, final: true})
    },
  }
}
