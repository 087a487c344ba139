/**
 * rtd's public API (package.json `exports` "."): what a plugin or a program embedding rtd may
 * import by name (`import {train, AdamW} from 'rtd'`). Anything else is internal and may move.
 * test/package-exports.test.ts imports the built package by name and checks these names.
 */
export * from './errors.js'

// Plugin contract and what stages hand each other (the run state)
export type {
  AnyPlugin, EvaluateHook, JsonSchema, PlanIo, PluginKind, PluginProblem, PreflightContext, RestoreContext, RestoredModel, RtdPlugin, RunState, Stage, StageKind, StagePlan,
  TrainedModel,
} from './plugin/contract.js'
export {LIST_STAGE_KINDS, PLUGIN_KINDS, STAGE_KINDS, stageEntries} from './plugin/contract.js'
// Architecture plugins: what an encoder family gives the objectives (src/plugin/architecture.ts)
export type {
  ArchitectureConfigs, ArchitectureNetworks, ArchitecturePlugin, ConfigFacts, DiscriminatorNet, EncoderInputs, EncoderNet, EncoderOutput, EncoderShape,
  ForwardContext, GeneratorShape, HostTensorLike, MaskedLmLossOptions, MaskedLmNet, NamedParameters, Recompute, SharedTable, TableName, TableShare,
} from './plugin/architecture.js'
export {TABLE_NAMES} from './plugin/architecture.js'
export type {Logger, MetricsSink, ProgressBar, RunContext, RunIo} from './plugin/run-context.js'
export {PluginRegistry, type RegisteredPlugin} from './plugin/registry.js'
export {loadPluginModule} from './plugin/load-plugin-module.js'
export {validatePlugin} from './plugin/validate-plugin.js'
export {describePlugins, type PluginInfo} from './plugin/describe-plugins.js'
export type {Batch} from './data/batch-iterator.js'
export type {DataManifest, PreparedData, SpecialTokenIds, TokenizerLike} from './data/prepared-data.js'
export type {ModelRecord, PretrainModel} from './pretrain/pretrain-stage.js'
export {isEvaluable, type EvalBatchOutput, type Evaluable} from './eval/evaluable.js'

// Pipelines
export * from './config/enums.js'
export {loadPipeline, type LoadPipelineParams, type ResolvedPipeline} from './pipeline/load-pipeline.js'
export {validatePipeline, type ValidationResult} from './pipeline/validate-pipeline.js'
export {buildPipelineSchema} from './pipeline/pipeline-schema.js'
export {PipelineInvalid, formatIssue, type PipelineIssue, type IssueCode} from './pipeline/pipeline-issue.js'
export {parseOverride, applyOverrides, typeValue} from './pipeline/overrides.js'
export {runPipeline, type RunPipelineParams, type RunResult} from './pipeline/runner.js'
export {findResumableRun, readStatus, type RunStatus} from './pipeline/run-dir.js'
export {RtdCommand} from './cli/base-command.js'

// Training: the generic loop, its model contract, the optimizer, resumable checkpoints
export {train, type OptimizerOptions, type TrainOptions, type TrainResult} from './train/trainer.js'
export type {BatchIterator, BatchSource, LossAndGrads, LossContext, ParameterGroup, Trainable, TrainingOrder} from './train/trainable.js'
export {AdamW, isNoDecayName, type AdamWOptions, type AdamWState} from './train/adamw.js'
export {learningRate, type LrSchedule} from './train/lr-schedule.js'
export {lossWeights, type LossWeight, type LossWeights} from './train/loss-weight.js'
export {checkpointsDir, loadLatestCheckpoint, saveCheckpoint, verifyCheckpoint, type LoadedCheckpoint, type SaveCheckpointParams} from './train/checkpoint-store.js'
export {initBackend, type BackendInfo, type InitBackendOptions} from './runtime/backend.js'

// Model folders and export
export {loadModelFolder, writeModelFolder, type LoadedModelFolder} from './checkpoint/model-folder.js'
export {readSafetensors, writeSafetensors, type HostTensor, type TensorSource, type TensorToWrite} from './checkpoint/safetensors.js'
export {exportRun, loadRunModel, type ExportRunOptions, type ExportRunResult, type LoadedRunModel} from './export/export-run.js'
export {exportModelFolder} from './pretrain/export-models.js'
