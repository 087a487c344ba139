/** Public surface of the training machinery (model-independent). */
export {AdamW, isNoDecayName, type AdamWOptions, type AdamWState} from './adamw.js'
export {learningRate, resolveWarmupSteps, LR_SCHEDULES, type LrSchedule, type LrScheduleName, type LearningRateParams} from './lr-schedule.js'
export {lossWeight, lossWeights, LOSS_WEIGHT_SCHEDULES, type LossWeight, type LossWeights} from './loss-weight.js'
export {clipByGlobalNorm, globalNorm, type ClipResult} from './clip.js'
export {GradAccumulator} from './grad-accumulator.js'
export {saveCheckpoint, loadLatestCheckpoint, verifyCheckpoint, checkpointsDir, type LoadedCheckpoint, type SaveCheckpointParams} from './checkpoint-store.js'
export {TRAINING_ORDERS, type TrainingOrder, type Trainable, type ParameterGroup, type LossContext, type LossAndGrads, type BatchIterator, type BatchSource} from './trainable.js'
export {train, type TrainOptions, type TrainResult, type OptimizerOptions} from './trainer.js'
