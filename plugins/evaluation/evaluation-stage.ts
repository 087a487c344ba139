/**
 * Scores a model stage's model on the eval split. Sums over the whole split (never means of
 * batch means); masks and samples derive from (seed, batch index), and batches come in file
 * order, so two evaluations of the same weights give identical numbers.
 *
 * `draws: k` repeats the evaluation with k seeded sets of masks and replacements (draw 0 uses the
 * evaluation seed itself, so k = 1 gives the numbers of a single draw) and reports each metric's
 * mean under its own name and the sample standard deviation across draws as `<name>_std`: one
 * draw moves AUC by ~0.005, as much as the differences people compare.
 */
import * as path from 'node:path'

import {BatchIterator, type Batch} from '../../src/data/batch-iterator.js'
import type {PreparedData, SpecialTokenIds} from '../../src/data/prepared-data.js'
import {ConfigError} from '../../src/errors.js'
import {averageDraws, drawSeed} from '../../src/eval/average-draws.js'
import {RtdMetricsAccumulator} from '../../src/eval/rtd-metrics.js'
import type {EvaluateHook, RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {hasEmbeddingDiagnostics, isEvaluable, type EvalBatchOutput} from '../../src/pretrain/index.js'
import {writeFileAtomic} from '../../src/pipeline/run-dir.js'
import {SAMPLES_FILE} from '../../src/report/read-run.js'
import {sampleRows, type DiscriminatorSamples} from '../../src/report/samples.js'
import {formatMetricsTable} from './format-metrics-table.js'

export interface EvaluationOptions {
  batch_size?: number
  max_batches: number
  seed?: number
  draws?: number
  samples?: number
  diagnostics?: boolean
}

/** 1 where masking may pick the token (not pad, not a special id): what can ever be replaced. */
function maskableOf(inputIds: ArrayLike<number>, attentionMask: ArrayLike<number>, special: SpecialTokenIds): Int32Array {
  const specials = new Set([special.pad, special.cls, special.sep, special.unk, special.mask])
  return Int32Array.from(attentionMask, (m, i) => (m && !specials.has(inputIds[i]) ? 1 : 0))
}

export function createEvaluationStage(options: EvaluationOptions, ctx: RunContext): Stage {
  const batchSize = options.batch_size ?? Number(ctx.pipeline.schedule?.batch_size ?? 8)
  const seed = options.seed ?? ctx.seed
  const draws = options.draws ?? 1
  const sampleCount = options.samples ?? 8
  /** <run-dir>/samples.json: the first rows of eval batch 0 as the discriminator saw them (the report's samples view). */
  const writeSamples = (p: {batch: Batch; out: NonNullable<EvalBatchOutput['discriminator']>; step: number; seed: number; prepared: PreparedData}): void => {
    const {batch, out, prepared} = p
    const record: DiscriminatorSamples = {
      step: p.step,
      seed: p.seed,
      sequences: sampleRows({
        inputIds: batch.inputIds,
        attentionMask: batch.attentionMask,
        mlmMask: out.mlmMask!,
        discInputIds: out.discInputIds!,
        logits: out.logits,
        batchSize: batch.batchSize,
        seqLen: batch.seqLen,
        rows: sampleCount,
        idToToken: (id) => prepared.tokenizer.idToToken(id),
      }),
    }
    try {
      writeFileAtomic(path.join(ctx.runDir, SAMPLES_FILE), `${JSON.stringify(record)}\n`)
    } catch (error) {
      ctx.log.warn(`could not write ${SAMPLES_FILE}: ${(error as Error).message}`)
    }
  }
  const evaluate: EvaluateHook = async (model, prepared, opts) => {
    if (!isEvaluable(model)) throw new ConfigError('the evaluation stage needs a model stage whose model can be evaluated (plugin gdes or mlm)', {code: 'evaluation.no_model'})
    if (!prepared?.eval || prepared.eval.rows === 0) {
      throw new ConfigError('the evaluation stage needs a held-out split: set data.eval_fraction > 0', {code: 'evaluation.no_eval_split'})
    }
    const limit = options.max_batches > 0 ? options.max_batches : Infinity
    const perDraw: Record<string, number>[] = []
    let diagnostics: Record<string, number> = {}
    for (let draw = 0; draw < draws; draw++) {
      const drawSeedValue = drawSeed(seed, draw)
      const it = new BatchIterator({shards: prepared.eval, batchSize, seed, maxLength: prepared.maxLength, padId: prepared.tokenizer.special.pad, shuffle: false, epochs: 1})
      const acc = new RtdMetricsAccumulator()
      const total = Math.min(limit, it.batchesPerEpoch)
      const name = opts.final ? 'eval (final)' : `eval @${opts.step}`
      const bar = ctx.progress({label: draws > 1 ? `${name} draw ${draw + 1}/${draws}` : name, total, unit: 'batches'})
      try {
        for (let index = 0; index < total; index++) {
          const batch = it.next()
          if (!batch) break
          const out = await model.evaluateBatch(batch, {seed: drawSeedValue, index})
          if (draw === 0 && index === 0) {
            if (sampleCount > 0 && out.discriminator?.discInputIds && out.discriminator.mlmMask) writeSamples({batch, out: out.discriminator, step: opts.step, seed: drawSeedValue, prepared})
            if (options.diagnostics !== false && hasEmbeddingDiagnostics(model)) diagnostics = await model.embeddingDiagnostics(batch, {seed: drawSeedValue})
          }
          if (out.discriminator) acc.addDiscriminator({...out.discriminator, maskable: maskableOf(batch.inputIds, batch.attentionMask, prepared.tokenizer.special)})
          if (out.generator) acc.addGenerator(out.generator)
          bar.update(index + 1)
          await new Promise((r) => setImmediate(r)) // let Ctrl-C through
        }
      } finally {
        bar.stop()
      }
      perDraw.push(acc.result())
    }
    const metrics = {...averageDraws(perDraw), ...diagnostics}
    if (opts.final) ctx.log.info(`final evaluation (step ${opts.step}${draws > 1 ? `, mean of ${draws} draws` : ''}):\n${formatMetricsTable(metrics)}`)
    return metrics
  }
  return {
    evaluate,
    /** The final evaluation, of the model the model stage handed over (state.model). */
    async run(state: RunState) {
      if (state.metrics) return // a model stage that ran the final evaluation itself (through state.evaluate)
      const model = state.model
      if (!model) throw new ConfigError('the evaluation stage needs a model stage before it', {code: 'evaluation.no_model'})
      if (!state.data) throw new ConfigError('the evaluation stage needs a data stage (the held-out split)', {code: 'evaluation.no_eval_split'})
      const metrics = await evaluate(model.evaluable, state.data, {step: model.step, final: true})
      ctx.metrics.write({type: 'eval', step: model.step, epoch: model.epoch, final: true, ...metrics})
      state.metrics = metrics
    },
  }
}
