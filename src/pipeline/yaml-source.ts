/**
 * Read one YAML pipeline file into plain JS, recording where every key and value was written
 * and substituting `${env:VAR}` / `${env:VAR:-default}` in strings.
 */
import * as fs from 'node:fs'
import {CST, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, parseDocument, Parser, type Document, type Node} from 'yaml'

import {dotPath, emptyOriginMap, pathKey, type Origin, type OriginMap, type PathSegments} from './origins.js'
import type {PipelineIssue} from './pipeline-issue.js'

export interface YamlSource {
  /** Absolute path. */
  file: string
  /** The file as written. */
  text: string
  /** undefined when the file has syntax errors (see issues). */
  value: unknown
  origins: OriginMap
  /** Paths whose whole value was one `${env:...}`: typed by the schema later, like overrides. */
  envPaths: PathSegments[]
  issues: PipelineIssue[]
}

/**
 * Bounds on what one pipeline file may ask of the parser, far above any real pipeline (the
 * examples are ~2 KB, depth 5, no aliases) and low enough that a hostile file (billion laughs,
 * a self-referencing alias, 20,000 nested brackets, a 50 MB file) is refused in well under a
 * second: the YAML library's parser takes seconds per MB and recurses once per nesting level.
 */
export const YAML_LIMITS = {
  /** File size in bytes. */
  maxBytes: 1024 * 1024,
  /** Nesting depth of mappings and sequences, counted after alias expansion. */
  maxDepth: 64,
  /** Keys and scalar values written in the file. */
  maxScalars: 20_000,
  /** Alias uses (`*name`) expanded while reading, counting aliases inside expanded anchors. */
  maxAliases: 500,
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * `displayFile` is how issues name the file (a path relative to the working directory
 * reads best); `env` is injected so tests need not touch process.env.
 */
export function readYamlSource(params: {
  file: string
  displayFile: string
  env: Record<string, string | undefined>
}): YamlSource {
  const size = fs.statSync(params.file).size
  if (size > YAML_LIMITS.maxBytes) {
    const out: YamlSource = {file: params.file, text: '', value: undefined, origins: emptyOriginMap(), envPaths: [], issues: []}
    out.issues.push({
      code: 'yaml.limit',
      path: '(yaml)',
      message: `the file is ${formatBytes(size)}; pipeline files are limited to ${formatBytes(YAML_LIMITS.maxBytes)} (is this the right file?)`,
      origin: {kind: 'file', file: params.displayFile, line: 1, col: 1},
    })
    return out
  }
  const text = fs.readFileSync(params.file, 'utf8')
  return parseYamlSource({...params, text})
}

export function parseYamlSource(params: {
  file: string
  displayFile: string
  text: string
  env: Record<string, string | undefined>
}): YamlSource {
  const {text, displayFile, env} = params
  const out: YamlSource = {file: params.file, text, value: undefined, origins: emptyOriginMap(), envPaths: [], issues: []}
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > YAML_LIMITS.maxBytes) {
    out.issues.push({
      code: 'yaml.limit',
      path: '(yaml)',
      message: `the file is ${formatBytes(bytes)}; pipeline files are limited to ${formatBytes(YAML_LIMITS.maxBytes)} (is this the right file?)`,
      origin: {kind: 'file', file: displayFile, line: 1, col: 1},
    })
    return out
  }
  const lc = new LineCounter()
  const at = (offset: number): Origin => {
    const {line, col} = lc.linePos(offset)
    return {kind: 'file', file: displayFile, line, col}
  }
  const scanLines = new LineCounter()
  const shapeIssue = checkShape({text, lineCounter: scanLines})
  if (shapeIssue !== undefined) {
    const {line, col} = scanLines.linePos(shapeIssue.offset)
    out.issues.push({code: 'yaml.limit', path: '(yaml)', message: shapeIssue.message, origin: {kind: 'file', file: displayFile, line, col}})
    return out
  }
  // Duplicate keys are found while converting (a Set per mapping): the library's own check
  // compares every pair of keys, seconds for a mapping with 20,000 keys.
  const doc = parseDocument(text, {lineCounter: lc, prettyErrors: false, uniqueKeys: false})
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      out.issues.push({code: 'yaml.syntax', path: '(yaml)', message: `YAML syntax: ${firstLine(e.message)}`, origin: at(e.pos[0])})
    }
    return out
  }
  out.value = convert({node: doc.contents as Node | null, path: [], doc, at, env, out, expanding: new Set(), budget: {aliases: 0}})
  // The root is located at its first node, or at 1:1 for an empty file.
  out.origins.values.set(pathKey([]), at(doc.contents?.range?.[0] ?? 0))
  return out
}

function firstLine(message: string): string {
  // The yaml package appends "at line L, column C" and a code excerpt; we print our own position.
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
}

function convert(p: {
  node: Node | null
  path: PathSegments
  doc: Document
  at: (offset: number) => Origin
  env: Record<string, string | undefined>
  out: YamlSource
  /** Anchored nodes being expanded on the way here: an alias to one of them is a cycle. */
  expanding: Set<Node>
  budget: {aliases: number}
}): unknown {
  const {node, path, at, out} = p
  if (node === null || node === undefined) return null
  if (node.range) out.origins.values.set(pathKey(path), at(node.range[0]))
  if (out.issues.some((i) => i.code === 'yaml.limit')) return null
  if (isAlias(node)) {
    const origin = node.range ? at(node.range[0]) : undefined
    const target = node.resolve(p.doc) as Node | undefined
    if (target === undefined) return null // the parser reports an unknown anchor
    if (p.expanding.has(target)) {
      out.issues.push({code: 'yaml.limit', path: dotPath(path), message: `alias *${node.source} refers to a node that contains it (a cycle); a pipeline value must be finite`, origin})
      return null
    }
    if (++p.budget.aliases > YAML_LIMITS.maxAliases) {
      out.issues.push({code: 'yaml.limit', path: dotPath(path), message: `more than ${YAML_LIMITS.maxAliases} aliases expanded (aliases inside expanded anchors count too); write the values out or use \`extends\``, origin})
      return null
    }
    return convert({...p, node: target, expanding: new Set([...p.expanding, target])})
  }
  if ((isMap(node) || isSeq(node)) && path.length >= YAML_LIMITS.maxDepth) {
    out.issues.push({code: 'yaml.limit', path: dotPath(path), message: `mappings and sequences nest deeper than ${YAML_LIMITS.maxDepth} levels (after expanding aliases)`, origin: node.range ? at(node.range[0]) : undefined})
    return null
  }
  // An anchored collection is tracked so an alias inside it back to it is caught as a cycle.
  const expanding = (isMap(node) || isSeq(node)) && node.anchor !== undefined ? new Set([...p.expanding, node]) : p.expanding
  if (isMap(node)) {
    const obj: Record<string, unknown> = {}
    const seen = new Set<string>()
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        out.issues.push({
          code: 'yaml.unsupported',
          path: dotPath(path),
          message: 'only plain string keys are allowed in a pipeline',
          origin: keyNode?.range ? at(keyNode.range[0]) : undefined,
        })
        continue
      }
      const key = String(keyNode.value)
      if (seen.has(key)) {
        out.issues.push({code: 'yaml.syntax', path: dotPath(path), message: `YAML syntax: Map keys must be unique (\`${key}\` is written twice)`, origin: keyNode.range ? at(keyNode.range[0]) : undefined})
        continue
      }
      seen.add(key)
      const childPath = [...path, key]
      if (keyNode.range) {
        out.origins.keys.set(pathKey(childPath), at(keyNode.range[0]))
        // A key with no value (`lr:`) is reported at the key.
        if (pair.value === null || pair.value === undefined) out.origins.values.set(pathKey(childPath), at(keyNode.range[0]))
      }
      obj[key] = convert({...p, node: pair.value as Node | null, path: childPath, expanding})
    }
    return obj
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => convert({...p, node: item as Node | null, path: [...path, i], expanding}))
  }
  if (isScalar(node)) {
    const v = node.value
    if (typeof v === 'string' && v.includes('${env:')) return substituteEnv({text: v, path, origin: node.range ? at(node.range[0]) : undefined, env: p.env, out})
    return v
  }
  return null
}

function substituteEnv(p: {
  text: string
  path: PathSegments
  origin: Origin | undefined
  env: Record<string, string | undefined>
  out: YamlSource
}): string {
  const whole = p.text.match(/^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/) !== null
  if (whole) p.out.envPaths.push(p.path)
  return p.text.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
    const v = p.env[name]
    if (v !== undefined) return v
    if (fallback !== undefined) return fallback
    p.out.issues.push({
      code: 'env.missing',
      path: dotPath(p.path),
      message: `environment variable ${name} is not set (written as \`${p.text}\`)`,
      origin: p.origin,
    })
    return ''
  })
}

const SCALAR_LEXEMES = new Set(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'alias'])
const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection'])

/**
 * Stream the file through the YAML lexer and parser (no document is built) and stop at the
 * first nesting level or scalar past the limits, so a hostile file costs milliseconds, not the
 * parser's quadratic time and stack overflow on deep flow collections.
 */
function checkShape(p: {text: string; lineCounter: LineCounter}): {offset: number; message: string} | undefined {
  const {text} = p
  // Parser.parse() would register line 1 itself; lexemes fed one by one do not.
  p.lineCounter.addNewLine(0)
  const parser = new Parser(p.lineCounter.addNewLine)
  let scalars = 0
  for (const lexeme of new Lexer().lex(text, false)) {
    const type = CST.tokenType(lexeme)
    if (type !== null && SCALAR_LEXEMES.has(type) && ++scalars > YAML_LIMITS.maxScalars) {
      return {offset: parser.offset, message: `more than ${YAML_LIMITS.maxScalars} keys and values; a pipeline file this large is not supported`}
    }
    for (const _ of parser.next(lexeme)) {
      // Finished documents are dropped: parseDocument builds them again once the shape is known to be sane.
    }
    const stack = parser.stack
    if (stack.length > YAML_LIMITS.maxDepth) {
      const depth = stack.filter((t) => COLLECTION_TOKENS.has(t.type)).length
      if (depth > YAML_LIMITS.maxDepth) return {offset: parser.offset, message: `mappings and sequences nest deeper than ${YAML_LIMITS.maxDepth} levels`}
    }
  }
  for (const _ of parser.end()) {
    // as above
  }
  return undefined
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${n} bytes`
}
