/**
 * Read one YAML pipeline file into plain JS, recording where every key and value was written
 * and substituting `${env:VAR}` / `${env:VAR:-default}` in strings.
 */
import * as fs from 'node:fs'
import {isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml'

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
  const lc = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lc, prettyErrors: false, uniqueKeys: true})
  const at = (offset: number): Origin => {
    const {line, col} = lc.linePos(offset)
    return {kind: 'file', file: displayFile, line, col}
  }
  const out: YamlSource = {file: params.file, text, value: undefined, origins: emptyOriginMap(), envPaths: [], issues: []}
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      out.issues.push({code: 'yaml.syntax', path: '(yaml)', message: `YAML syntax: ${firstLine(e.message)}`, origin: at(e.pos[0])})
    }
    return out
  }
  out.value = convert({node: doc.contents as Node | null, path: [], doc, at, env, out})
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
}): unknown {
  const {node, path, at, out} = p
  if (node === null || node === undefined) return null
  if (node.range) out.origins.values.set(pathKey(path), at(node.range[0]))
  if (isAlias(node)) {
    return convert({...p, node: node.resolve(p.doc) as Node | null})
  }
  if (isMap(node)) {
    const obj: Record<string, unknown> = {}
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
      const childPath = [...path, key]
      if (keyNode.range) {
        out.origins.keys.set(pathKey(childPath), at(keyNode.range[0]))
        // A key with no value (`lr:`) is reported at the key.
        if (pair.value === null || pair.value === undefined) out.origins.values.set(pathKey(childPath), at(keyNode.range[0]))
      }
      obj[key] = convert({...p, node: pair.value as Node | null, path: childPath})
    }
    return obj
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => convert({...p, node: item as Node | null, path: [...path, i]}))
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
