import * as fs from 'node:fs'
import * as path from 'node:path'
import {ConfigError} from '../errors.js'

/**
 * Turn `files:` (a path, a glob, or a list of them) into a sorted list of absolute file paths.
 * Globs support `*`, `?`, `**` and `{a,b}`; a directory means every file under it.
 */
export function expandFiles(params: {patterns: string | string[]; resolvePath: (p: string) => string}): string[] {
  const patterns = Array.isArray(params.patterns) ? params.patterns : [params.patterns]
  const out = new Set<string>()
  for (const pattern of patterns) {
    const abs = params.resolvePath(pattern)
    if (!/[*?{[]/.test(pattern)) {
      if (!fs.existsSync(abs)) {
        throw new ConfigError(`data source file ${pattern} does not exist (resolved to ${abs}).`, {
          code: 'data.source_missing',
          suggestions: ['Check the path in `data.source.files`; relative paths resolve against the pipeline file\'s folder.'],
        })
      }
      if (fs.statSync(abs).isDirectory()) for (const f of walk(abs)) out.add(f)
      else out.add(abs)
      continue
    }
    const base = globBase(abs)
    const re = globToRegExp(abs)
    const matches = fs.existsSync(base) ? walk(base).filter((f) => re.test(f)) : []
    if (matches.length === 0) {
      throw new ConfigError(`data source glob ${pattern} matches no files (searched under ${base}).`, {
        code: 'data.source_empty',
        suggestions: ['Check the pattern in `data.source.files`.'],
      })
    }
    for (const f of matches) out.add(f)
  }
  return [...out].sort()
}

function walk(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...walk(p))
    else if (e.isFile()) out.push(p)
  }
  return out
}

/** The longest leading directory of a glob without wildcards. */
function globBase(glob: string): string {
  const parts = glob.split('/')
  const fixed: string[] = []
  for (const p of parts) {
    if (/[*?{[]/.test(p)) break
    fixed.push(p)
  }
  return fixed.join('/') || '/'
}

export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?'
          i += 2
        } else {
          re += '.*'
          i += 1
        }
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '{') {
      const end = glob.indexOf('}', i)
      if (end < 0) re += '\\{'
      else {
        re += '(?:' + glob.slice(i + 1, end).split(',').map(escape).join('|') + ')'
        i = end
      }
    } else re += escape(c)
  }
  return new RegExp('^' + re + '$')
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&')
}
