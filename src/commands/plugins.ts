import {Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {registryForPipeline} from '../cli/load-pipeline-plugins.js'
import {PLUGIN_KINDS} from '../plugin/contract.js'
import {describePlugins, formatPlugins, type PluginInfo} from '../plugin/describe-plugins.js'

export default class Plugins extends RtdCommand<PluginInfo[]> {
  static override summary = 'List the available plugins and their options.'

  static override description = `Lists every built-in plugin (and, with --pipeline, the external plugins that pipeline loads) with its kind, summary and options: type, default and description, from the plugin's JSON Schema.`

  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins --kind model',
    '<%= config.bin %> plugins --pipeline pipelines/tiny-gdes.yaml --json',
  ]

  static override flags = {
    pipeline: Flags.string({char: 'p', summary: 'Also list the external plugins this pipeline loads (its `plugins:`).'}),
    kind: Flags.string({summary: 'Only plugins of this kind.', options: [...PLUGIN_KINDS]}),
  }

  async run(): Promise<PluginInfo[]> {
    const {flags} = await this.parse(Plugins)
    const registry = await registryForPipeline({file: flags.pipeline})
    const infos = describePlugins({registry, kind: flags.kind as (typeof PLUGIN_KINDS)[number] | undefined})
    this.log(formatPlugins(infos))
    return infos
  }
}
