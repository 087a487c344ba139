/**
 * Child process for the crash-safety test: builds shards and, once the first chunk of
 * documents is written, announces it (marker file) and hangs until the parent SIGKILLs it.
 *   tsx crash-child.ts <workDir> <cacheDir> <marker>
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {prepareData} from '../../../src/data/prepare-data.js'
import {buildOptions} from './crash-options.js'
import {wordTokenizers} from './word-tokenizer.js'

const [workDir, cacheDir, marker] = process.argv.slice(2)
await prepareData({
  options: buildOptions(),
  cacheDir,
  seed: 9,
  resolvePath: (p) => path.resolve(workDir, p),
  tokenizers: wordTokenizers(),
  progress: () => ({
    update() {
      fs.writeFileSync(marker, String(process.pid))
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000) // hang mid-build
    },
    stop() {},
  }),
})
