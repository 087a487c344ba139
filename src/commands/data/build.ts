import {Flags} from '@oclif/core'

import {RtdCommand} from '../../cli/base-command.js'
import {installInterruptHandler} from '../../cli/interrupt.js'
import {pipelineArgs, splitPipelineArgv} from '../../cli/pipeline-args.js'
import {buildData, type BuildDataResult} from '../../pipeline/build-data.js'
import {loadPipeline} from '../../pipeline/load-pipeline.js'

export default class DataBuild extends RtdCommand<BuildDataResult> {
  static override summary = 'Run only the data stage of a pipeline: tokenize the corpus into cached shards.'

  static override description = `Reads the source, loads or trains the tokenizer and writes Arrow shards into the cache (RTD_CACHE or ~/.cache/rtd, under shards/<key>). The key hashes the source content, the tokenizer, the data options and the seed: when nothing changed this returns at once, and \`rtd run\` reuses the same shards. A cache hit first checks each shard file's size against the manifest (\`--verify\`: its sha256 too) and rebuilds the shards when one is missing, cut short or changed. Ctrl-C discards the partial build.

Exit status: 0 done, 1 runtime failure, 2 invalid pipeline, 130 interrupted.`

  static override examples = [
    '<%= config.bin %> data build pipelines/tiny-gdes.yaml',
    '<%= config.bin %> data build pipelines/tiny-gdes.yaml data.max_length=256 --json',
    '<%= config.bin %> data build pipelines/tiny-gdes.yaml --force',
    '<%= config.bin %> data build pipelines/tiny-gdes.yaml --verify',
  ]

  static override strict = false

  static override args = pipelineArgs

  static override flags = {
    force: Flags.boolean({summary: 'Rebuild even when the cache already holds these shards.'}),
    verify: Flags.boolean({summary: 'On a cache hit, check every shard file against its manifest sha256 (sizes are always checked) and rebuild damaged shards.'}),
  }

  async run(): Promise<BuildDataResult> {
    const {argv, flags} = await this.parse(DataBuild)
    const {pipeline: file, overrides} = splitPipelineArgv(argv)
    const pipeline = await loadPipeline({file, overrides})
    const interrupt = installInterruptHandler({notify: (m) => process.stderr.write(`\n${m}\n`)})
    try {
      const quiet = this.jsonEnabled()
      const r = await buildData({
        pipeline,
        force: flags.force,
        verify: flags.verify,
        signal: interrupt.signal,
        tty: quiet ? undefined : process.stderr,
        log: {info: (m) => this.note(m), warn: (m) => this.note(`warn: ${m}`), debug: (m) => this.verbose && this.note(m)},
      })
      const ev = r.eval ? `, eval ${r.eval.documents} documents / ${r.eval.sequences} sequences / ${r.eval.tokens} tokens` : ''
      this.log(`${r.cacheHit ? 'cached' : 'built'}: ${r.shardDir}`)
      this.log(`train ${r.train.documents} documents / ${r.train.sequences} sequences / ${r.train.tokens} tokens${ev} (max_length ${r.maxLength}, ${r.seconds.toFixed(2)} s)`)
      return r
    } finally {
      interrupt.dispose()
    }
  }
}
