/** The public reference fixtures, copied into the repository (fixtures/): tests need nothing outside it. */
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../../..')
export const fixturesDir = path.join(repoRoot, 'fixtures')
export const tinyFixture = path.join(fixturesDir, 'deberta-tiny')
export const electraTinyFixture = path.join(fixturesDir, 'electra-tiny')
