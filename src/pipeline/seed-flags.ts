/**
 * Flags of the Python seed project's CLI (rtd_gdes.train) and where each went in a pipeline, so
 * that a user who writes `lambda_disc: 0.5` at the top level of a pipeline is pointed at
 * `loss.lambda` instead of only being told the key is unknown. docs/migrating-from-rtd_gdes.md
 * is the long form of this table; a test keeps the two in step.
 */

export interface SeedFlag {
  /** The pipeline key that replaces it, as a dotted path; absent when there is none. */
  key?: string
  /** Why there is no key, or what differs; shown in the message. */
  note?: string
}

/** By the seed's argparse dest names (and `lr` / `output_dir` / `save_name`, which its README uses). */
export const SEED_FLAGS: Readonly<Record<string, SeedFlag>> = {
  model: {key: 'model.from', note: 'the Hugging Face id or folder of the discriminator; the generator is derived from it (model.generator.depth)'},
  model_id: {key: 'model.from'},
  lambda_disc: {key: 'loss.lambda'},
  batch_size: {key: 'schedule.batch_size'},
  epochs: {key: 'schedule.epochs'},
  lr: {key: 'schedule.optimizer.lr'},
  learning_rate: {key: 'schedule.optimizer.lr'},
  weight_decay: {key: 'schedule.optimizer.weight_decay'},
  gamma: {key: 'schedule.lr_schedule.gamma', note: 'with schedule.lr_schedule.type: exponential (the default)'},
  dataset: {key: 'data.source.hub', note: 'with data.source.split (the seed used `unsupervised`)'},
  dataset_name: {key: 'data.source.hub'},
  test_size: {key: 'data.eval_fraction'},
  max_length: {key: 'data.max_length'},
  output_dir: {key: 'output.dir'},
  save_name: {key: 'output.save_name'},
  fp16: {note: 'rtd trains in float32 (TensorFlow.js has no float16 training); float16 checkpoints are read and widened'},
  bf16: {note: 'rtd trains in float32 (TensorFlow.js has no bfloat16)'},
  compile: {note: 'there is no torch.compile; speed comes from runtime.backend and runtime.native'},
  compile_model: {note: 'there is no torch.compile; speed comes from runtime.backend and runtime.native'},
  num_workers: {note: 'the data stage tokenizes once into cached shards, so there is no loader worker count; runtime.workers is data-parallel training, a different thing'},
}

/** The message tail for an unknown top-level key that is a seed flag, or undefined. */
export function seedFlagHint(key: string): {didYouMean?: string; note: string} | undefined {
  const flag = Object.hasOwn(SEED_FLAGS, key) ? SEED_FLAGS[key] : undefined
  if (!flag) return undefined
  const what = flag.key ? `\`${key}\` is a flag of the Python seed project (rtd_gdes); its pipeline key is \`${flag.key}\`` : `\`${key}\` is a flag of the Python seed project (rtd_gdes) with no pipeline key`
  return {...(flag.key ? {didYouMean: flag.key} : {}), note: `${what}${flag.note ? ` (${flag.note})` : ''}; see docs/migrating-from-rtd_gdes.md`}
}
