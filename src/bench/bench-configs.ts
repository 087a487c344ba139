/**
 * The shapes `rtd bench` times (issue 6), the same as the PyTorch reference benchmark's
 * (bench_torch.py, external; docs/performance.md) so the two can be compared: bench-small, xsmall
 * (deberta-v3-xsmall), base (deberta-v3-base: the seed's quick-start model, generator at half
 * depth), tiny (tests) and offline-default (pipelines/tiny-gdes.yaml's step).
 */
export const BENCH_CONFIGS = ['bench-small', 'xsmall', 'base', 'tiny', 'offline-default'] as const
export type BenchConfigName = (typeof BENCH_CONFIGS)[number]

export interface BenchConfig {
  vocab: number
  hidden: number
  heads: number
  intermediate: number
  discriminatorLayers: number
  generatorLayers: number
  maxPositions: number
  positionBuckets: number
  batch: number
  seq: number
  /** Masking rate (default 0.15, the paper's). */
  maskRate?: number
  /** Sampling temperature (default 1). */
  temperature?: number
}

export const BENCH_CONFIG: Record<BenchConfigName, BenchConfig> = {
  'bench-small': {vocab: 8000, hidden: 256, heads: 4, intermediate: 1024, discriminatorLayers: 4, generatorLayers: 2, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  xsmall: {vocab: 128100, hidden: 384, heads: 6, intermediate: 1536, discriminatorLayers: 12, generatorLayers: 6, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  base: {vocab: 128100, hidden: 768, heads: 12, intermediate: 3072, discriminatorLayers: 12, generatorLayers: 6, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  tiny: {vocab: 1000, hidden: 64, heads: 4, intermediate: 128, discriminatorLayers: 2, generatorLayers: 1, maxPositions: 128, positionBuckets: 16, batch: 8, seq: 48},
  // pipelines/tiny-gdes.yaml's shapes, batch, masking and temperature (its vocabulary is a trained 4000-word WordPiece)
  'offline-default': {vocab: 4000, hidden: 128, heads: 4, intermediate: 512, discriminatorLayers: 2, generatorLayers: 1, maxPositions: 128, positionBuckets: 32, batch: 16, seq: 64, maskRate: 0.25, temperature: 3},
}
