/** The export stage (src/export/export-stage.ts): after evaluation, the model stage's folders with the data stage's tokenizer. */
import {expect} from 'chai'

import {createExportStage} from '../../../src/export/export-stage.js'
import type {PreparedData} from '../../../src/data/prepared-data.js'
import type {RunState, TrainedModel} from '../../../src/plugin/contract.js'
import type {RunContext} from '../../../src/plugin/run-context.js'

const logged: string[] = []
const ctx = {log: {info: (m: string) => logged.push(m), warn: () => {}, debug: () => {}}} as unknown as RunContext

describe('export stage', () => {
  it('writes the model to its export dir with the data stage\'s tokenizer and records the outputs', async () => {
    const calls: {dir: string; tokenizerDir: string}[] = []
    const model: TrainedModel = {
      evaluable: {evaluateBatch: () => ({})},
      step: 3,
      epoch: 1,
      checkpoint: '/run/checkpoints/step-3',
      export: {dir: '/out/tiny_gdes', write: (o) => (calls.push(o), {discriminator: o.dir, generator: `${o.dir}/generator`})},
    }
    const state: RunState = {data: {tokenizerDir: '/cache/tok'} as PreparedData, model, outputs: {other: 'x'}}
    await createExportStage(ctx).run(state)
    expect(calls).to.deep.equal([{dir: '/out/tiny_gdes', tokenizerDir: '/cache/tok'}])
    expect(state.outputs).to.deep.equal({other: 'x', discriminator: '/out/tiny_gdes', generator: '/out/tiny_gdes/generator', checkpoint: '/run/checkpoints/step-3'})
    expect(logged).to.include('exported generator: /out/tiny_gdes/generator')
  })

  it('leaves a model that has no export (an external model plugin\'s) alone', async () => {
    const state = {data: {tokenizerDir: '/t'}, model: {steps: 2}} as unknown as RunState
    await createExportStage(ctx).run(state)
    expect(state.outputs).to.equal(undefined)
  })
})
