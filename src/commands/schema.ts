import * as fs from 'node:fs'

import {Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {registryForPipeline} from '../cli/load-pipeline-plugins.js'
import type {JsonSchema} from '../plugin/contract.js'
import {buildPipelineSchema} from '../pipeline/pipeline-schema.js'

export default class Schema extends RtdCommand<JsonSchema> {
  static override summary = 'Print the pipeline JSON Schema.'

  static override description = `The JSON Schema (2020-12) of a pipeline, including the options of every built-in plugin (and, with --pipeline, that pipeline's external plugins). The build also writes it to schemas/pipeline.schema.json. For editor checks, start a pipeline with:
  # yaml-language-server: $schema=../schemas/pipeline.schema.json`

  static override examples = [
    '<%= config.bin %> schema',
    '<%= config.bin %> schema --output schemas/pipeline.schema.json',
    '<%= config.bin %> schema --pipeline my-pipeline.yaml --output my.schema.json',
  ]

  static override flags = {
    output: Flags.string({char: 'o', summary: 'Write the schema to this file instead of stdout.'}),
    pipeline: Flags.string({char: 'p', summary: "Include this pipeline's external plugins."}),
  }

  async run(): Promise<JsonSchema> {
    const {flags} = await this.parse(Schema)
    const schema = buildPipelineSchema({registry: await registryForPipeline({file: flags.pipeline})})
    const text = `${JSON.stringify(schema, null, 2)}\n`
    if (flags.output === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(text)
    } else {
      fs.writeFileSync(flags.output, text)
      this.log(`wrote ${flags.output}`)
    }
    return schema
  }
}
