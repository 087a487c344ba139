import {ConfigError} from '../errors.js'

/** The one error for a tokenizer.json component rtd does not implement. */
export function unsupportedComponent(params: {kind: string; type: unknown; supported: readonly string[]; source: string}): ConfigError {
  const {kind, type, supported, source} = params
  return new ConfigError(`${source}: unsupported ${kind} "${String(type)}"; rtd supports ${supported.join(', ')}`, {
    code: 'tokenizer.unsupported_component',
    suggestions: [`Use a tokenizer whose ${kind} is one of: ${supported.join(', ')}.`],
  })
}
