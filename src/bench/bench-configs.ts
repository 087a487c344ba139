/**
 * The shapes `rtd bench` times (issue 6), the same as the PyTorch reference benchmark's
 * (bench_torch.py, external; docs/performance.md) so the two can be compared: bench-small, xsmall
 * (deberta-v3-xsmall), base (deberta-v3-base: the seed's quick-start model, generator at half
 * depth) and tiny (tests).
 */
export const BENCH_CONFIGS = ['bench-small', 'xsmall', 'base', 'tiny'] as const
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
}

export const BENCH_CONFIG: Record<BenchConfigName, BenchConfig> = {
  'bench-small': {vocab: 8000, hidden: 256, heads: 4, intermediate: 1024, discriminatorLayers: 4, generatorLayers: 2, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  xsmall: {vocab: 128100, hidden: 384, heads: 6, intermediate: 1536, discriminatorLayers: 12, generatorLayers: 6, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  base: {vocab: 128100, hidden: 768, heads: 12, intermediate: 3072, discriminatorLayers: 12, generatorLayers: 6, maxPositions: 512, positionBuckets: 256, batch: 8, seq: 128},
  tiny: {vocab: 1000, hidden: 64, heads: 4, intermediate: 128, discriminatorLayers: 2, generatorLayers: 1, maxPositions: 128, positionBuckets: 16, batch: 8, seq: 48},
}
