/** Public surface of checkpoint I/O. */
export {readSafetensors, readSafetensorsHeader, writeSafetensors, decodeTensorBytes, float16ToFloat32, bfloat16ToFloat32, SAFETENSORS_DTYPES, type HostTensor, type SafetensorsDtype, type TensorSource, type TensorToWrite} from './safetensors.js'
export {readPytorchBin} from './pytorch-bin.js'
export {loadShardedCheckpoint, readShardIndex, type ShardIndexJson} from './sharded.js'
export {loadModelFolder, writeModelFolder, WEIGHT_FORMATS, type LoadedModelFolder, type WeightFormat} from './model-folder.js'
export {matchTensorNames, assertTensorNames, documentedExtras, type TensorNameMatch, type ShapeMismatch} from './match-tensor-names.js'
