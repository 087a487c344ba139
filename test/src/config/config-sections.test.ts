/**
 * One source for the fixed pipeline sections: the types the code uses are derived from the
 * schemas (checked at compile time below, so `npm run typecheck` fails when they drift), the
 * option lists are the schemas' enums, and code that falls back on a default gets the schema's.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as tf from '#tfjs'
import {expect} from 'chai'
import {LOSS_SECTION, RUNTIME_SECTION, SCHEDULE_SECTION, type LossSection, type RuntimeSection, type ScheduleSection} from '../../../src/config/config-sections.js'
import {BACKENDS, LR_SCHEDULES, RECOMPUTE_MODES, TRAINING_MODES} from '../../../src/config/enums.js'
import {buildPipelineSchema} from '../../../src/pipeline/pipeline-schema.js'
import type {Resolved} from '../../../src/config/schema-types.js'
import {PluginRegistry} from '../../../src/plugin/registry.js'
import type {BackendChoice, NativeChoice} from '../../../src/runtime/backend.js'
import type {LossWeight} from '../../../src/train/loss-weight.js'
import type {LrScheduleName} from '../../../src/train/lr-schedule.js'
import type {TrainingOrder} from '../../../src/train/trainable.js'
import {train} from '../../../src/train/trainer.js'
import {fakeCtx, ToyData, ToyModel} from '../train/fixtures/toy.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const agree = <T extends true>(..._: T[]): void => undefined

describe('pipeline config sections', () => {
  it('derive the types the code uses (compile time) from the schemas', () => {
    agree<Equal<RuntimeSection['backend'], BackendChoice>>()
    agree<Equal<RuntimeSection['native'], NativeChoice>>()
    agree<Equal<ScheduleSection['training'], TrainingOrder>>()
    agree<Equal<ScheduleSection['lr_schedule']['type'], LrScheduleName>>()
    agree<Equal<ScheduleSection['optimizer']['betas'], [number, number]>>()
    // defaults make a key present; a conditional default (epochs without max_steps) does not
    agree<Equal<ScheduleSection['batch_size'], number>>()
    agree<Equal<ScheduleSection['epochs'], number | undefined>>()
    const lambda: LossWeight = null as unknown as LossSection['lambda']
    agree<Equal<Resolved<{type: 'object'; properties: {a: {type: 'string'}; b: {enum: readonly ['x', 'y']; default: 'x'}}; required: readonly ['a']}>, {a: string; b: 'x' | 'y'}>>()
    expect(lambda).to.equal(null)
  })

  it('are the sections of the pipeline schema, with the option lists as their enums', () => {
    const schema = buildPipelineSchema({registry: new PluginRegistry()}) as {properties: Record<string, unknown>}
    expect(schema.properties.runtime).to.equal(RUNTIME_SECTION)
    expect(schema.properties.loss).to.equal(LOSS_SECTION)
    expect(schema.properties.schedule).to.equal(SCHEDULE_SECTION)
    expect(RUNTIME_SECTION.properties.backend.enum).to.equal(BACKENDS)
    expect(RUNTIME_SECTION.properties.recompute.enum).to.equal(RECOMPUTE_MODES)
    expect(SCHEDULE_SECTION.properties.training.enum).to.equal(TRAINING_MODES)
    expect(SCHEDULE_SECTION.properties.lr_schedule.properties.type.enum).to.equal(LR_SCHEDULES)
  })

  it('the trainer takes the schema defaults for what its caller leaves out (lambda 50, not 1)', async () => {
    await tf.setBackend('cpu')
    const runDir = mkdtempSync(join(tmpdir(), 'rtd-defaults-'))
    try {
      const ctx = fakeCtx(runDir)
      await train({model: new ToyModel(), data: new ToyData({batches: 2, batchSize: 4}), ctx, maxSteps: 1, optimizer: {lr: 0.01}})
      const line = ctx.records.find((r) => r.type === 'train')!
      expect([line.lambda, line.mlm_weight]).to.deep.equal([LOSS_SECTION.properties.lambda.default, LOSS_SECTION.properties.mlm_weight.default])
      expect(line.lambda).to.equal(50)
    } finally {
      rmSync(runDir, {recursive: true, force: true})
    }
  })
})
