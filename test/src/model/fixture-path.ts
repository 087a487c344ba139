/** Where the shared reference fixtures live: ../shared next to the repo, or $RTD_SHARED_DIR. */
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..')
export const sharedDir = process.env.RTD_SHARED_DIR ?? path.resolve(repoRoot, '../shared')
export const tinyFixture = path.join(sharedDir, 'fixtures', 'deberta-tiny')
