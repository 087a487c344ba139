import * as fs from 'node:fs'
import * as path from 'node:path'

import {globSync, isDynamicPattern} from 'tinyglobby'

import {ConfigError} from '../errors.js'

/**
 * Turn `files:` (a path, a glob, or a list of them) into a sorted list of absolute file paths.
 * Globs go through tinyglobby (picomatch syntax: `*`, `?`, `**`, `[ab]`, `{a,b}`, `{*.txt,*.md}`);
 * a directory means every file under it. A path that exists as written is taken literally,
 * even if it contains glob characters.
 */
export function expandFiles(params: {patterns: string | string[]; resolvePath: (p: string) => string}): string[] {
  const patterns = Array.isArray(params.patterns) ? params.patterns : [params.patterns]
  const out = new Set<string>()
  for (const pattern of patterns) {
    const abs = params.resolvePath(pattern)
    if (fs.existsSync(abs) || !isDynamicPattern(pattern)) {
      if (!fs.existsSync(abs)) {
        throw new ConfigError(`data source file ${pattern} does not exist (resolved to ${abs}).`, {
          code: 'data.source_missing',
          suggestions: ["Check the path in `data.source.files`; relative paths resolve against the pipeline file's folder."],
        })
      }
      if (fs.statSync(abs).isDirectory()) for (const f of filesUnder(abs)) out.add(f)
      else out.add(abs)
      continue
    }
    const {base, glob} = splitGlob(abs)
    // Hidden files match only a pattern that names a dot: picomatch lets `{*.txt,*.md}` match
    // `.hidden.txt` although `*.txt` alone does not, so they are excluded explicitly.
    const namesDot = /(^|\/|\{|,)\./.test(glob)
    const options = {cwd: base, absolute: true, onlyFiles: true, expandDirectories: false, ignore: namesDot ? [] : ['**/.*', '**/.*/**']}
    const matches = fs.existsSync(base) ? globSync(glob, options) : []
    if (matches.length === 0) {
      throw new ConfigError(`data source glob ${pattern} matches no files (searched for ${glob} under ${base}).`, {
        code: 'data.source_empty',
        suggestions: ['Check the pattern in `data.source.files`: `*` and `?` stay within a folder, `**/` crosses folders, `[ab]` is one of a or b, `{x,y}` is x or y.'],
      })
    }
    for (const f of matches) out.add(path.normalize(f))
  }
  return [...out].sort()
}

function filesUnder(dir: string): string[] {
  return globSync('**', {cwd: dir, absolute: true, onlyFiles: true, dot: true, expandDirectories: false}).map((f) => path.normalize(f))
}

/** The longest leading folder of an absolute glob without glob characters, and the rest. */
function splitGlob(abs: string): {base: string; glob: string} {
  const parts = abs.split('/')
  let i = 0
  while (i < parts.length - 1 && !isDynamicPattern(parts[i])) i++
  return {base: parts.slice(0, i).join('/') || '/', glob: parts.slice(i).join('/')}
}
