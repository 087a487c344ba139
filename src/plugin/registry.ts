/**
 * Every plugin a pipeline can name: the built-ins (plugins/index.ts) plus the external
 * modules listed in the pipeline's `plugins:`. Names are unique per kind.
 */
import {builtinPlugins} from '../../plugins/index.js'
import {ConfigError} from '../errors.js'
import type {ArchitecturePlugin} from './architecture.js'
import {PLUGIN_KINDS, type AnyPlugin, type PluginKind, type RtdPlugin, type StageKind} from './contract.js'
import {loadPluginModule} from './load-plugin-module.js'
import {validatePlugin} from './validate-plugin.js'

export interface RegisteredPlugin {
  plugin: AnyPlugin
  /** `built-in`, or the specifier it was loaded from as written in the pipeline. */
  source: string
  /** The module file an external plugin was loaded from (absolute). */
  file?: string
}

export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, RegisteredPlugin>>(PLUGIN_KINDS.map((k) => [k, new Map()]))

  /** A registry holding the built-in plugins (pass `builtins: []` for an empty one). */
  constructor(params: {builtins?: readonly AnyPlugin[]} = {}) {
    for (const p of params.builtins ?? builtinPlugins) this.register({plugin: validatePlugin({value: p, source: 'built-in', trusted: true}), source: 'built-in'})
  }

  register(params: {plugin: AnyPlugin; source: string; file?: string}): void {
    const {plugin, source} = params
    const kind = this.byKind.get(plugin.kind)!
    const existing = kind.get(plugin.name)
    // the same module file loaded again (each variant of a sweep loads the pipeline's plugins) is no clash
    if (existing !== undefined && existing.file !== undefined && existing.file === params.file) return
    if (existing !== undefined && existing.plugin !== plugin) {
      throw new ConfigError(`${plugin.kind} plugin \`${plugin.name}\` from ${source} clashes with the one from ${existing.source}`, {
        code: 'plugin.duplicate',
        suggestions: ['Rename one of them; plugin names are unique per kind.'],
      })
    }
    kind.set(plugin.name, {plugin, source, ...(params.file !== undefined ? {file: params.file} : {})})
  }

  /** Import a module (npm name or path relative to `baseDir`) and register its plugins. */
  async load(params: {specifier: string; baseDir: string}): Promise<AnyPlugin[]> {
    const {plugins, file} = await loadPluginModule(params)
    for (const plugin of plugins) this.register({plugin, source: params.specifier, file})
    return plugins
  }

  /** The files of the external plugin modules loaded so far (what `rtd export` reloads for a run). */
  moduleFiles(): string[] {
    return [...new Set(this.list().flatMap((r) => (r.file !== undefined ? [r.file] : [])))]
  }

  get(kind: 'architecture', name: string): ArchitecturePlugin | undefined
  get(kind: StageKind, name: string): RtdPlugin<any> | undefined
  get(kind: PluginKind, name: string): AnyPlugin | undefined
  get(kind: PluginKind, name: string): AnyPlugin | undefined {
    return this.byKind.get(kind)?.get(name)?.plugin
  }

  /** The architecture plugin named `name`, or a ConfigError listing the known ones. */
  architecture(name: string): ArchitecturePlugin {
    const a = this.get('architecture', name)
    if (a === undefined) {
      throw new ConfigError(`unknown architecture \`${name}\`; available architectures: ${this.names('architecture').join(', ')}`, {
        code: 'plugin.unknown_architecture',
        suggestions: ['List the module that provides it under `plugins:` in the pipeline, or pick one of `rtd plugins --kind architecture`.'],
      })
    }
    return a
  }

  /** The architecture that reads config.json files of this HF `model_type`, if any. */
  architectureForModelType(modelType: string): ArchitecturePlugin | undefined {
    return this.list('architecture').map((r) => r.plugin as ArchitecturePlugin).find((a) => a.modelTypes.includes(modelType))
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
