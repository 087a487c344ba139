import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {loadPipeline} from '../../../src/pipeline/load-pipeline.js'
import {SEED_FLAGS, seedFlagHint} from '../../../src/pipeline/seed-flags.js'

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..')
const doc = fs.readFileSync(path.join(root, 'docs/migrating-from-rtd_gdes.md'), 'utf8')
/** The seed CLI's flags the migration guide must cover. */
const FLAGS = ['model', 'lambda_disc', 'batch_size', 'epochs', 'lr', 'weight_decay', 'gamma', 'dataset', 'fp16', 'bf16', 'compile', 'output_dir', 'save_name']

describe('seed project flags', () => {
  it('the migration guide has a row for every seed flag, naming the same pipeline key as the did-you-mean', () => {
    for (const flag of FLAGS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`--${flag}\``) || l.includes(`\`--${flag}\`,`) || l.includes(`, \`--${flag}\``))
      expect(row, `row for --${flag}`).to.be.a('string')
      const key = SEED_FLAGS[flag]?.key
      expect(row!.split('|')[2].trim(), `--${flag}`).to.equal(key ? `\`${key}\`` : 'none')
    }
  })

  it('every mapped key is a key of the resolved imdb-gdes pipeline (save_name: of the output section)', async () => {
    const {value} = await loadPipeline({file: path.join(root, 'pipelines/imdb-gdes.yaml'), cwd: root, env: {}, cpuCount: 2})
    for (const [flag, f] of Object.entries(SEED_FLAGS)) {
      if (!f.key) continue
      const parts = f.key.split('.')
      const parent = parts.slice(0, -1).reduce((o: any, k) => o?.[k], value)
      expect(parent, `${flag} -> ${f.key}`).to.be.an('object')
      if (f.key !== 'output.save_name') expect(parent, `${flag} -> ${f.key}`).to.have.property(parts.at(-1)!)
    }
  })

  it('hints only for seed flags, with a did-you-mean only where a key exists', () => {
    expect(seedFlagHint('lambda_disc')).to.include({didYouMean: 'loss.lambda'})
    expect(seedFlagHint('compile')).to.not.have.property('didYouMean')
    expect(seedFlagHint('compile')!.note).to.include('no pipeline key')
    expect(seedFlagHint('toString')).to.equal(undefined)
    expect(seedFlagHint('lambda')).to.equal(undefined)
  })
})
