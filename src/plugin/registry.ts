/**
 * Every plugin a pipeline can name: the built-ins (plugins/index.ts) plus the external
 * modules listed in the pipeline's `plugins:`. Names are unique per kind.
 */
import {builtinPlugins} from '../../plugins/index.js'
import {ConfigError} from '../errors.js'
import {PLUGIN_KINDS, type PluginKind, type RtdPlugin} from './contract.js'
import {loadPluginModule} from './load-plugin-module.js'
import {validatePlugin} from './validate-plugin.js'

export interface RegisteredPlugin {
  plugin: RtdPlugin<any>
  /** `built-in`, or the specifier it was loaded from as written in the pipeline. */
  source: string
}

export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, RegisteredPlugin>>(PLUGIN_KINDS.map((k) => [k, new Map()]))

  /** A registry holding the built-in plugins (pass `builtins: []` for an empty one). */
  constructor(params: {builtins?: readonly RtdPlugin<any>[]} = {}) {
    for (const p of params.builtins ?? builtinPlugins) this.register({plugin: validatePlugin({value: p, source: 'built-in'}), source: 'built-in'})
  }

  register(params: {plugin: RtdPlugin<any>; source: string}): void {
    const {plugin, source} = params
    const kind = this.byKind.get(plugin.kind)!
    const existing = kind.get(plugin.name)
    if (existing !== undefined && existing.plugin !== plugin) {
      throw new ConfigError(`${plugin.kind} plugin \`${plugin.name}\` from ${source} clashes with the one from ${existing.source}`, {
        code: 'plugin.duplicate',
        suggestions: ['Rename one of them; plugin names are unique per kind.'],
      })
    }
    kind.set(plugin.name, {plugin, source})
  }

  /** Import a module (npm name or path relative to `baseDir`) and register its plugins. */
  async load(params: {specifier: string; baseDir: string}): Promise<RtdPlugin<any>[]> {
    const {plugins} = await loadPluginModule(params)
    for (const plugin of plugins) this.register({plugin, source: params.specifier})
    return plugins
  }

  get(kind: PluginKind, name: string): RtdPlugin<any> | undefined {
    return this.byKind.get(kind)?.get(name)?.plugin
  }

  names(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort()
  }

  /** Every registered plugin, by kind (in PLUGIN_KINDS order) then name. */
  list(kind?: PluginKind): RegisteredPlugin[] {
    const kinds = kind === undefined ? PLUGIN_KINDS : [kind]
    return kinds.flatMap((k) => [...this.byKind.get(k)!.values()].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name)))
  }
}
