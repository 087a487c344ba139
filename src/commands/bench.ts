import {Flags} from '@oclif/core'

import {RtdCommand} from '../cli/base-command.js'
import {BENCH_CONFIGS, type BenchConfigName} from '../bench/bench-configs.js'
import {runBench, type BenchResult} from '../bench/run-bench.js'
import {EMBEDDING_SHARING, type EmbeddingSharing} from '../model/index.js'
import {BACKEND_CHOICES, NATIVE_CHOICES, type BackendChoice, type NativeChoice} from '../runtime/backend.js'

export default class Bench extends RtdCommand<BenchResult[]> {
  static override summary = 'Time the GDES training step on synthetic data; one JSON line per config.'

  static override description = `Runs the real training step (generator forward, MLM loss, replacement sampling, discriminator forward, RTD loss, backward, AdamW) on seeded synthetic token ids and prints, per config, one JSON line: tokens_per_s and s_per_step (medians over the timed steps after warm-up), peak_rss_mb (of the whole process so far: run one config per invocation to compare memory), backend, native, workers, threads, batch, seq, steps, and the load average around the run.

Configs match the PyTorch reference benchmark (bench_torch.py, an external tool: see docs/performance.md): bench-small (vocab 8000, hidden 256, 4 heads, FFN 1024, 4/2 layers, batch 8, seq 128), xsmall (deberta-v3-xsmall shapes: vocab 128100, hidden 384, 6 heads, FFN 1536, 12/6 layers, batch 8, seq 128), tiny.`

  static override examples = [
    '<%= config.bin %> bench',
    '<%= config.bin %> bench --config xsmall --native off --workers 2',
    '<%= config.bin %> bench --config bench-small --config tiny --steps 3 --warmup 1',
    '<%= config.bin %> bench --forward-only',
  ]

  static override flags = {
    config: Flags.string({options: [...BENCH_CONFIGS], multiple: true, default: ['bench-small'], summary: 'Config(s) to time, in order.'}),
    steps: Flags.integer({default: 5, min: 1, summary: 'Timed steps.'}),
    warmup: Flags.integer({default: 2, min: 0, summary: 'Untimed steps first.'}),
    batch: Flags.integer({min: 1, summary: "Override the config's batch size."}),
    seq: Flags.integer({min: 3, summary: "Override the config's sequence length."}),
    workers: Flags.integer({default: 1, min: 1, summary: 'Data-parallel replicas (worker threads + this one).'}),
    threads: Flags.integer({min: 1, summary: 'Thread budget, split over the workers (default: the cores).'}),
    backend: Flags.string({options: [...BACKEND_CHOICES], default: 'auto', summary: 'TensorFlow.js backend.'}),
    native: Flags.string({options: [...NATIVE_CHOICES], default: 'auto', summary: 'Native BLAS kernels on the wasm backend.'}),
    'forward-only': Flags.boolean({default: false, summary: 'Time the forwards, sampling and losses only (no backward, no update; one replica).'}),
    sharing: Flags.string({options: [...EMBEDDING_SHARING], default: 'gdes', summary: 'Embedding sharing.'}),
    seed: Flags.integer({default: 0, summary: 'Seed of weights, data, masks and samples.'}),
    profile: Flags.boolean({default: false, summary: 'Profile one more training step and print the time per kernel (slowest first) to stderr.'}),
  }

  async run(): Promise<BenchResult[]> {
    const {flags} = await this.parse(Bench)
    const results: BenchResult[] = []
    for (const config of flags.config as BenchConfigName[]) {
      const r = await runBench({
        config,
        steps: flags.steps,
        warmup: flags.warmup,
        batch: flags.batch,
        seq: flags.seq,
        workers: flags.workers,
        threads: flags.threads,
        backend: flags.backend as BackendChoice,
        native: flags.native as NativeChoice,
        forwardOnly: flags['forward-only'],
        sharing: flags.sharing as EmbeddingSharing,
        seed: flags.seed,
        profile: flags.profile,
      })
      if (r.profile) {
        const total = r.profile.reduce((s, k) => s + k.ms, 0)
        process.stderr.write(`${config}: time per kernel over one profiled step (${total.toFixed(0)} ms in kernels on ${r.backend})\n`)
        for (const k of r.profile) process.stderr.write(`  ${k.kernel.padEnd(28)} ${k.ms.toFixed(1).padStart(9)} ms  ${String(k.calls).padStart(6)} calls\n`)
      }
      this.log(JSON.stringify(r))
      results.push(r)
    }
    return results
  }
}
