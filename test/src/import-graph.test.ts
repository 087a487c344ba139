/**
 * The folders of src/ form a layered graph: no import cycle between two folders (a cycle
 * makes neither side usable or testable alone, and ESM evaluation order fragile), and the model
 * code does not depend on the training code. Relative imports, re-exports and dynamic imports
 * count, type-only ones too (a type cycle is the same coupling).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const IMPORT = /(?:^|[\n;])\s*(?:import|export)\s[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\n;])\s*import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

/** Folder -> folder it imports -> the importing files. A file directly in `src` is a node of its own. */
function folderGraph(src: string): Map<string, Map<string, string[]>> {
  const nodeOf = (file: string): string | undefined => {
    const rel = path.relative(src, file)
    if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined
    return rel.split(path.sep)[0]!.replace(/\.(ts|js)$/, '')
  }
  const graph = new Map<string, Map<string, string[]>>()
  for (const file of tsFiles(src)) {
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    for (const m of text.matchAll(IMPORT)) {
      const from = nodeOf(file)!
      const to = nodeOf(path.resolve(path.dirname(file), m[1] ?? m[2] ?? m[3]!))
      if (to === undefined || to === from) continue
      const out = graph.get(from) ?? new Map<string, string[]>()
      graph.set(from, out)
      out.set(to, [...new Set([...(out.get(to) ?? []), path.relative(src, file)])])
    }
  }
  return graph
}

/** The strongly connected components with more than one node (Tarjan). */
function importCycles(graph: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

function describeCycle(graph: Map<string, Map<string, string[]>>, scc: string[]): string {
  const edges = scc.flatMap((a) => scc.filter((b) => graph.get(a)?.has(b)).map((b) => `  ${a} -> ${b} (${graph.get(a)!.get(b)!.join(', ')})`))
  return `import cycle between src/${scc.join(', src/')}:\n${edges.join('\n')}`
}

describe('src import graph', () => {
  it('finds a cycle through three folders, and re-exports and dynamic imports as edges', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-graph-'))
    try {
      const write = (rel: string, text: string): void => {
        fs.mkdirSync(path.dirname(path.join(tmp, rel)), {recursive: true})
        fs.writeFileSync(path.join(tmp, rel), text)
      }
      write('a/x.ts', "import type {Y} from '../b/y.js'\nexport const x = 1\n")
      write('b/y.ts', "export * from '../c/z.js'\nexport type Y = number\n")
      write('c/z.ts', "export const z = () => import('../a/x.js')\n// import {w} from '../d/w.js'\n")
      write('d/w.ts', "import {x} from '../a/x.js'\nexport const w = x\n")
      const graph = folderGraph(tmp)
      expect(importCycles(graph)).to.deep.equal([['a', 'b', 'c']])
      expect([...graph.get('d')!.keys()]).to.deep.equal(['a'])
      expect(graph.has('c') && graph.get('c')!.has('d')).to.equal(false) // a commented-out import is no edge
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })

  it('has no import cycle between the folders of src/', () => {
    const graph = folderGraph(path.join(ROOT, 'src'))
    expect(graph.get('pretrain')?.has('train'), 'the walk sees src/pretrain -> src/train').to.equal(true)
    const cycles = importCycles(graph)
    expect(cycles.map((c) => describeCycle(graph, c)).join('\n')).to.equal('')
  })

  it('keeps src/model free of the training code', () => {
    const graph = folderGraph(path.join(ROOT, 'src'))
    const model = graph.get('model') ?? new Map<string, string[]>()
    for (const upper of ['train', 'pretrain', 'parallel', 'pipeline', 'plugin']) {
      expect(model.get(upper), `src/model imports src/${upper}`).to.equal(undefined)
    }
  })
})
