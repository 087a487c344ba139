import {Args, Flags} from '@oclif/core'

import {RtdCommand} from '../../cli/base-command.js'
import {inspectShards, type InspectResult, type SplitSummary} from '../../data/inspect-shards.js'

export default class DataInspect extends RtdCommand<InspectResult> {
  static override summary = 'Show counts, a length histogram and decoded samples of a shard directory.'

  static override examples = [
    '<%= config.bin %> data inspect ~/.cache/rtd/shards/3f9c0a1b2c3d4e5f60718293',
    '<%= config.bin %> data inspect ~/.cache/rtd/shards/3f9c0a1b2c3d4e5f60718293 --samples 5 --json',
  ]

  static override args = {
    dir: Args.string({required: true, description: 'Shard directory (printed by `rtd data build`).'}),
  }

  static override flags = {
    samples: Flags.integer({default: 3, min: 0, summary: 'Decoded sequences to show per split.'}),
    bins: Flags.integer({default: 8, min: 1, summary: 'Bins of the length histogram.'}),
  }

  async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(DataInspect)
    const r = inspectShards({dir: args.dir, samples: flags.samples, bins: flags.bins})
    this.log(`${r.shardDir}`)
    this.log(`created ${r.createdAt}; max_length ${r.maxLength}; packing ${r.packing}; tokenizer ${r.tokenizer.kind} (vocab ${r.tokenizer.vocabSize})`)
    for (const [name, s] of [['train', r.train], ['eval', r.eval]] as const) if (s) this.printSplit(name, s)
    for (const s of r.samples) this.log(`\n[${s.split} #${s.row}, ${s.length} tokens]\n${s.text}`)
    return r
  }

  private printSplit(name: string, s: SplitSummary): void {
    this.log(`\n${name}: ${s.documents} documents, ${s.sequences} sequences, ${s.tokens} tokens, ${s.shards} shards, mean length ${s.meanLength.toFixed(1)}`)
    const most = Math.max(1, ...s.histogram.map((b) => b.count))
    for (const b of s.histogram) {
      this.log(`  ${`${b.from}-${b.to}`.padStart(9)} ${String(b.count).padStart(8)} ${'#'.repeat(Math.round((40 * b.count) / most))}`.trimEnd())
    }
  }
}
