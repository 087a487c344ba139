// Module loader hooks (node:module register) that append every loaded URL to the file named by
// RTD_RECORD_LOADS: how test/src/plugin/lazy-plugins.test.ts sees what a command imports.
import {appendFileSync} from 'node:fs'

export async function load(url, context, next) {
  if (process.env.RTD_RECORD_LOADS) appendFileSync(process.env.RTD_RECORD_LOADS, `${url}\n`)
  return next(url, context)
}
