/**
 * Hostile pipeline files (issue 14), written into a folder: shared by the CLI tests and
 * bench/yaml-limits.ts so both exercise the same inputs.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

export interface HostileYaml {
  name: string
  file: string
  /** The limit the message must name. */
  expect: RegExp
}

export function writeHostileYaml(dir: string): HostileYaml[] {
  fs.mkdirSync(dir, {recursive: true})
  const write = (name: string, text: string | (() => void)): string => {
    const file = path.join(dir, `${name}.yaml`)
    if (typeof text === 'string') fs.writeFileSync(file, text)
    else text()
    return file
  }
  // Billion laughs: 9 levels of 9 aliases, ~450 bytes that expand to 9^9 strings.
  const laughs = ['a0: &a0 [x, x, x, x, x, x, x, x, x]']
  for (let i = 1; i <= 9; i++) laughs.push(`a${i}: &a${i} [${Array.from({length: 9}, () => `*a${i - 1}`).join(', ')}]`)
  const big = path.join(dir, 'big-50mb.yaml')
  return [
    {name: 'billion-laughs-9x9', file: write('billion-laughs-9x9', `${laughs.join('\n')}\n`), expect: /:2:\d+: .*more than 500 aliases expanded/},
    {name: 'self-alias', file: write('self-alias', 'a: &a [*a]\n'), expect: /:1:8: a\[0\]: alias \*a refers to a node that contains it/},
    {
      name: 'big-50mb',
      file: write('big-50mb', () => {
        const fd = fs.openSync(big, 'w')
        fs.writeSync(fd, 'name: big\n')
        const chunk = `# ${'x'.repeat(1024 * 1024 - 3)}\n`
        for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk)
        fs.closeSync(fd)
      }),
      expect: /:1:1: \(yaml\): the file is 50\.0 MB; pipeline files are limited to 1\.0 MB/,
    },
    {name: 'nested-20000', file: write('nested-20000', `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`), expect: /:1:\d+: \(yaml\): mappings and sequences nest deeper than 64 levels/},
  ]
}
