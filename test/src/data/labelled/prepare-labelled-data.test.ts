import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {expect} from 'chai'
import {labelIndex, labelSet} from '../../../../src/data/labelled/label-index.js'
import {messageBody} from '../../../../src/data/labelled/labelled-package.js'
import {prepareLabelledData, type LabelledDataOptions} from '../../../../src/data/labelled/prepare-labelled-data.js'
import {classLabelNames, readLabelledFile} from '../../../../src/data/labelled/read-labelled-file.js'
import type {TokenizerLike} from '../../../../src/data/prepared-data.js'
import {RtdError} from '../../../../src/errors.js'

/** One id per whitespace-separated word (5 + its length), [PAD]=0 [CLS]=1 [SEP]=2. */
const words: TokenizerLike = {
  kind: 'test',
  vocabSize: 100,
  special: {pad: 0, cls: 1, sep: 2, unk: 3, mask: 4},
  encode: (t) => Int32Array.from(t.split(/\s+/).filter((w) => w !== ''), (w) => 5 + Math.min(w.length, 90)),
  decode: () => '',
  idToToken: () => undefined,
  fingerprint: () => 'words-v1',
  save: () => {},
}

function options(o: Partial<LabelledDataOptions>): LabelledDataOptions {
  return {train: {files: 'train.jsonl'}, text_column: 'text', label_column: 'label', max_length: 8, validation_fraction: 0.25, test_fraction: 0, missing_labels: 'error', ...o}
}

async function failure(p: Promise<unknown>): Promise<RtdError> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(RtdError)
    return error as RtdError
  }
  return expect.fail('expected an error')
}

describe('labelled data for fine-tuning', () => {
  let dir: string
  let cache: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-labelled-'))
    cache = path.join(dir, 'cache')
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))
  const prepare = (o: Partial<LabelledDataOptions>) => prepareLabelledData({options: options(o), tokenizer: words, cacheDir: cache, seed: 7, resolvePath: (p) => path.resolve(dir, p)})
  const jsonl = (name: string, rows: unknown[]) => fs.writeFileSync(path.join(dir, name), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')

  it('indexes labels, carves a seeded validation split, cuts long texts and counts them, and reuses the cache', async () => {
    const rows = Array.from({length: 40}, (_, i) => ({text: i % 5 === 0 ? 'a b c d e f g h i j k' : 'short text', label: i % 2 === 0 ? 'pos' : 'neg'}))
    jsonl('train.jsonl', rows)
    const d = await prepare({})
    expect(d.labels).to.deep.equal(['neg', 'pos'])
    expect(d.manifest.labelOrigin).to.equal('train split')
    expect(d.train.labels.length + d.validation.labels.length).to.equal(40)
    expect(d.validation.labels.length).to.equal(10)
    expect(d.test).to.equal(null)
    const st = d.manifest.splits
    expect(st.train!.truncated + st.validation!.truncated).to.equal(8) // the 11-word texts
    // every row is [CLS] ... [SEP] and at most max_length long
    for (let r = 0; r < d.train.labels.length; r++) {
      const row = d.train.ids.subarray(d.train.offsets[r], d.train.offsets[r + 1])
      expect(row.length).to.be.at.most(8)
      expect(row[0]).to.equal(1)
      expect(row.at(-1)).to.equal(2)
    }
    const again = await prepare({})
    expect(again.cacheHit).to.equal(true)
    expect([...again.validation.labels]).to.deep.equal([...d.validation.labels])
  })

  it('reads csv with quoted fields and a test file, and names an unseen test label with its line', async () => {
    fs.writeFileSync(path.join(dir, 'train.csv'), 'text,label\n"good, really",pos\nbad,neg\n"said ""fine""",pos\nawful,neg\nok,pos\nmeh,neg\n')
    fs.writeFileSync(path.join(dir, 'test.csv'), 'text,label\nfine,pos\nodd,neutral\n')
    const e = await failure(prepare({train: {files: 'train.csv'}, test: {files: 'test.csv'}}))
    expect(e.code).to.equal('data.unseen_label')
    expect(e.message).to.contain('"neutral"').and.contain('test.csv:3').and.contain('[neg, pos]')
    fs.writeFileSync(path.join(dir, 'test.csv'), 'text,label\nfine,pos\nodd,neg\n')
    const d = await prepare({train: {files: 'train.csv'}, test: {files: 'test.csv'}})
    expect(d.test!.labels.length).to.equal(2)
  })

  it('stops on missing labels with their location, or drops and counts them', async () => {
    jsonl('train.jsonl', [{text: 'a', label: 1}, {text: 'b', label: 0}, {text: 'c'}, {text: 'd', label: 1}, {text: 'e', label: 0}, {text: 'f', label: null}])
    const e = await failure(prepare({}))
    expect(e.code).to.equal('data.missing_label')
    expect(e.message).to.contain('2 rows').and.contain('line 3')
    const d = await prepare({missing_labels: 'drop'})
    expect(d.manifest.splits.train!.dropped).to.equal(2)
    expect(d.train.labels.length + d.validation.labels.length).to.equal(4)
  })

  it('refuses a train split with a single class', async () => {
    jsonl('train.jsonl', Array.from({length: 8}, (_, i) => ({text: `t ${i}`, label: 'spam'})))
    const e = await failure(prepare({}))
    expect(e.code).to.equal('data.single_class')
    expect(e.message).to.contain('"spam"')
  })

  it('treats -1 as no label and integers as indices under ClassLabel names', () => {
    const set = labelSet({features: ['neg', 'pos'], train: []})
    const byName = new Map(set.names.map((n, i) => [n, i]))
    expect(labelIndex(1, set, byName)).to.equal(1)
    expect(labelIndex(-1, set, byName)).to.equal(null)
    expect(labelIndex(2, set, byName)).to.equal(-2)
    expect(classLabelNames({label: {_type: 'ClassLabel', names: ['neg', 'pos']}}, 'label')).to.deep.equal(['neg', 'pos'])
    expect(classLabelNames({label: {_type: 'Value', dtype: 'int64'}}, 'label')).to.equal(undefined)
  })

  it('sorts numeric train labels numerically and names a missing text column', async () => {
    expect(labelSet({train: [10, 2, 2, 1]}).names).to.deep.equal(['1', '2', '10'])
    jsonl('train.jsonl', [{review: 'x', label: 1}])
    const e = await failure(readLabelledFile({file: path.join(dir, 'train.jsonl'), format: 'auto', textColumn: 'text', labelColumn: 'label'}))
    expect(e.code).to.equal('data.column_missing')
    expect(e.message).to.contain('"review"')
  })

  it('keeps the body of an e-mail without its headers or tags', () => {
    expect(messageBody('From: a@b\nSubject: hi\n\n<p>Hello&nbsp;<b>there</b></p>\n\n  bye')).to.equal('Hello there bye')
  })
})
