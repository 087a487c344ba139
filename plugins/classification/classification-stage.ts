/**
 * The classification stage: find the encoder (`from`), its architecture (by config.json
 * model_type) and tokenizer; build the labelled data with that tokenizer; then, per seed, an
 * encoder (pretrained weights or a fresh init) plus the HF head, fine-tuned and scored on the
 * test split (validation when there is none). Every validation and each seed's result go to
 * metrics.jsonl; the summary (mean, std over seeds) to the log, the run's final metrics and
 * metrics.jsonl; the seed with the best validation score is exported.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {loadModelFolder, writeModelFolder} from '../../src/checkpoint/index.js'
import {defaultTokenizers, TOKENIZER_FILES} from '../../src/data/default-tokenizers.js'
import {prepareLabelledData, type LabelledDataOptions} from '../../src/data/labelled/prepare-labelled-data.js'
import {ConfigError} from '../../src/errors.js'
import {meanAndSpread} from '../../src/finetune/classification-metrics.js'
import {SequenceClassifier} from '../../src/finetune/sequence-classifier.js'
import {evaluateClassifier, trainClassifier, type FinetuneSchedule, type SplitScores} from '../../src/finetune/train-classifier.js'
import type {RunState, Stage} from '../../src/plugin/contract.js'
import type {RunContext} from '../../src/plugin/run-context.js'
import {resolveModelFolder} from '../../src/pretrain/model-source.js'
import {initRuntime} from '../../src/pretrain/pretrain-stage.js'
import {classifierConfig, headLayout} from './head-layouts.js'

export interface ClassificationOptions {
  name: string
  from: string
  init: 'pretrained' | 'random'
  data: LabelledDataOptions
  schedule: FinetuneSchedule
  seeds: number[]
  classifier_dropout?: number
  export: boolean
}

/** The model folder `from` names: `run` = what this pipeline's model stage exported. */
async function encoderFolder(o: ClassificationOptions, state: RunState, ctx: RunContext): Promise<{dir: string; hubId?: string}> {
  if (o.from === 'run') {
    const out = state.outputs ?? {}
    const dir = out.discriminator ?? out.model
    if (!dir || !fs.existsSync(path.join(dir, 'config.json'))) {
      throw new ConfigError(`finetune ${o.name}: \`from: run\` needs the model this pipeline trained, but no exported model was found (outputs: ${Object.keys(out).join(', ') || 'none'}).`, {
        code: 'finetune.no_model',
        suggestions: ['Put a model stage before the fine-tune, or set `from` to a model folder or hub id.'],
      })
    }
    return {dir}
  }
  const dir = await resolveModelFolder({from: o.from, resolvePath: (p) => ctx.resolvePath(p), option: `finetune ${o.name} from`})
  return fs.existsSync(ctx.resolvePath(o.from)) ? {dir} : {dir, hubId: o.from}
}

function scoresRecord(prefix: string, s: SplitScores): Record<string, number> {
  return {[`${prefix}_loss`]: s.loss, [`${prefix}_accuracy`]: s.accuracy, [`${prefix}_macro_f1`]: s.macro_f1}
}

export function createClassificationStage(o: ClassificationOptions, ctx: RunContext): Stage {
  return {
    async run(state: RunState) {
      const task = o.name
      const {dir, hubId} = await encoderFolder(o, state, ctx)
      const folder = loadModelFolder({dir})
      const modelType = String(folder.config.model_type ?? '')
      const architecture = ctx.architectureForModelType?.(modelType)
      if (!architecture) {
        throw new ConfigError(`finetune ${task}: ${path.join(dir, 'config.json')} has model_type \`${modelType}\`, which no architecture plugin reads.`, {
          code: 'finetune.unknown_model_type',
          suggestions: ['Fine-tune a DeBERTa-v2/v3 folder, or list the architecture plugin for this model_type under `plugins:`.'],
        })
      }
      const backend = await initRuntime(ctx)
      const networks = await architecture.load()
      const config = networks.configs.parse(folder.config, path.join(dir, 'config.json'))
      const facts = networks.configs.facts(config)
      const hf = networks.configs.toHf(config)
      const layout = headLayout({hf: {...folder.config, ...hf}, dropout: o.classifier_dropout})
      const tokenizers = defaultTokenizers({resolvePath: (p) => ctx.resolvePath(p)})
      const tokenizer = await tokenizers.load({from: hubId ?? dir})
      if (tokenizer.vocabSize > facts.vocabSize) {
        throw new ConfigError(`finetune ${task}: the tokenizer in ${dir} has ${tokenizer.vocabSize} ids, the encoder's word table ${facts.vocabSize} rows.`, {code: 'finetune.tokenizer_mismatch'})
      }
      if (o.data.max_length > facts.maxPositions) {
        throw new ConfigError(`finetune ${task}: data.max_length ${o.data.max_length} is longer than the encoder reads (${facts.maxPositions} positions).`, {
          code: 'finetune.max_length',
          suggestions: [`Set finetune data.max_length to at most ${facts.maxPositions}.`],
        })
      }

      const data = await prepareLabelledData({options: o.data, tokenizer, cacheDir: ctx.cacheDir, seed: ctx.seed, resolvePath: (p) => ctx.resolvePath(p), log: ctx.log, signal: ctx.signal})
      const m = data.manifest
      const truncated = Object.entries(m.splits).map(([k, v]) => `${k} ${v!.truncated}/${v!.rows}`).join(', ')
      const dropped = Object.entries(m.splits).reduce((s, [, v]) => s + v!.dropped, 0)
      ctx.log.info(
        `finetune ${task}: ${data.labels.length} classes [${data.labels.join(', ')}] (from ${m.labelOrigin}); ` +
          Object.entries(m.splits).map(([k, v]) => `${k} ${v!.rows} (${v!.perClass.join('/')})`).join(', ') +
          `; cut to ${data.maxLength} tokens: ${truncated}${dropped ? `; ${dropped} rows without a label dropped` : ''}`,
      )
      ctx.metrics.write({
        stage: 'finetune',
        task,
        type: 'finetune_data',
        labels: data.labels,
        ...Object.fromEntries(Object.entries(m.splits).flatMap(([k, v]) => [[`${k}_rows`, v!.rows], [`${k}_truncated`, v!.truncated], [`${k}_dropped`, v!.dropped]])),
        cache_hit: data.cacheHit,
      })
      const scoreSplit = data.test ? 'test' : 'validation'
      const pad = tokenizer.special.pad
      const results: {seed: number; best: SplitScores; final: SplitScores; steps: number; tokensPerSecond: number}[] = []
      let bestSeedScore: SplitScores | undefined
      const outDir = path.join(ctx.runDir, 'finetune', task)
      const tokenizerFilesOf = await tokenizerFiles({dir, hubId, tokenizer, tmp: path.join(outDir, '.tokenizer')})
      for (const seed of o.seeds) {
        const encoder = networks.createEncoder({config, seed, role: `finetune-${task}`})
        if (o.init === 'pretrained') {
          const notes = encoder.loadTensors(folder.tensors)
          for (const n of notes) ctx.log.debug(`finetune ${task}: ${n}`)
        }
        const model = new SequenceClassifier({encoder, hiddenSize: facts.hiddenSize, numLabels: data.labels.length, layout, seed, initializerRange: Number(hf.initializer_range ?? 0.02)})
        const total = Math.ceil(data.train.labels.length / o.schedule.batch_size) * o.schedule.epochs
        const bar = ctx.progress({label: `finetune ${task} seed ${seed}`, total, unit: 'steps'})
        let result
        try {
          result = await trainClassifier({
            model,
            train: data.train,
            validation: data.validation,
            schedule: o.schedule,
            seed,
            pad,
            signal: ctx.signal,
            progress: bar,
            onStep: (r) => ctx.metrics.write({stage: 'finetune', task, type: 'finetune_step', seed, step: r.step, epoch: r.epoch, loss: r.loss, lr: r.lr}),
            onEval: (r) => ctx.metrics.write({stage: 'finetune', task, type: 'finetune_eval', split: 'validation', seed, step: r.step, epoch: r.epoch, best: r.best, ...scoresRecord('validation', r.scores)}),
          })
        } finally {
          bar.stop()
        }
        const final = data.test ? evaluateClassifier({model, split: data.test, batchSize: o.schedule.batch_size * 2, pad}) : result.best
        const tokensPerSecond = result.seconds > 0 ? result.tokens / result.seconds : 0
        results.push({seed, best: result.best, final, steps: result.steps, tokensPerSecond})
        ctx.metrics.write({
          stage: 'finetune',
          task,
          type: 'finetune_seed',
          seed,
          init: o.init,
          steps: result.steps,
          best_step: result.bestStep,
          stopped_early: result.stoppedEarly,
          tokens_per_second: Math.round(tokensPerSecond),
          ...scoresRecord('validation', result.best),
          ...scoresRecord(scoreSplit, final),
        })
        ctx.log.info(
          `finetune ${task} seed ${seed}: ${scoreSplit} accuracy ${final.accuracy.toFixed(4)}, macro-F1 ${final.macro_f1.toFixed(4)}, loss ${final.loss.toFixed(4)} ` +
            `(best validation at update ${result.bestStep} of ${result.steps}${result.stoppedEarly ? ', stopped early' : ''}; ${Math.round(tokensPerSecond)} tokens/s on ${backend})`,
        )
        if (o.export && (bestSeedScore === undefined || (o.schedule.metric === 'loss' ? result.best.loss < bestSeedScore.loss : result.best[o.schedule.metric] > bestSeedScore[o.schedule.metric]))) {
          bestSeedScore = result.best
          writeModelFolder({
            dir: path.join(outDir, 'model'),
            config: {...classifierConfig({hf, layout, labels: data.labels}), rtd_finetune: {task, seed, init: o.init, from: o.from, [`${scoreSplit}_accuracy`]: final.accuracy}},
            tensors: model.exportTensors() as Map<string, {shape: number[]; data: Float32Array}>,
            extraFiles: tokenizerFilesOf,
          })
        }
        model.dispose()
      }

      const summary: Record<string, number> = {}
      for (const key of ['accuracy', 'macro_f1', 'loss'] as const) {
        const s = meanAndSpread(results.map((r) => r.final[key]))
        summary[`${task}/${scoreSplit}_${key}_mean`] = s.mean
        summary[`${task}/${scoreSplit}_${key}_std`] = s.std
      }
      summary[`${task}/seeds`] = results.length
      ctx.metrics.write({stage: 'finetune', task, type: 'finetune_summary', init: o.init, split: scoreSplit, seeds: o.seeds, ...summary})
      const fmt = (k: string) => `${summary[`${task}/${scoreSplit}_${k}_mean`].toFixed(4)} +- ${summary[`${task}/${scoreSplit}_${k}_std`].toFixed(4)}`
      ctx.log.info(
        `finetune ${task} (${o.init}, ${results.length} seed${results.length === 1 ? '' : 's'}; mean +- std over seeds), ${scoreSplit} split:\n` +
          `  accuracy  ${fmt('accuracy')}\n  macro-F1  ${fmt('macro_f1')}\n  loss      ${fmt('loss')}`,
      )
      state.metrics = {...state.metrics, ...summary}
      if (o.export) {
        state.outputs = {...state.outputs, [`finetune/${task}`]: path.join(outDir, 'model')}
        ctx.log.info(`exported finetune ${task}: ${path.join(outDir, 'model')}`)
      }
    },
  }
}

/** The tokenizer files of the encoder's folder, or (a hub model, whose files sit in the HF cache) the loaded tokenizer saved. */
async function tokenizerFiles(p: {dir: string; hubId?: string; tokenizer: {save(dir: string): void | Promise<void>}; tmp: string}): Promise<Record<string, Uint8Array>> {
  let from = p.dir
  if (p.hubId !== undefined) {
    fs.mkdirSync(p.tmp, {recursive: true})
    await p.tokenizer.save(p.tmp)
    from = p.tmp
  }
  const out: Record<string, Uint8Array> = {}
  for (const f of TOKENIZER_FILES) {
    const file = path.join(from, f)
    if (fs.existsSync(file)) out[f] = fs.readFileSync(file)
  }
  if (p.hubId !== undefined) fs.rmSync(p.tmp, {recursive: true, force: true})
  return out
}
