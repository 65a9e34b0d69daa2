/**
 * The ML core's public API. Importing this module loads TensorFlow.js; code that must stay cheap (stage kinds at
 * planning time) imports `src/core/model-dir.js` directly instead.
 */
export type { Result } from '../contract/result.js';
export { ok, err } from '../contract/result.js';
export { initBackend, ensureBackend, currentBackend, memoryInfo, parseBackendName, BACKEND_NAMES } from './backend.js';
export type { BackendInfo, BackendName, MemoryInfo } from './backend.js';
export { resolveModelDir, describeModelDir, hfHubCacheDir } from './model-dir.js';
export type { ModelDir, ResolveOptions } from './model-dir.js';
export { Checkpoint } from './checkpoint.js';
export type { CheckpointTensorInfo } from './checkpoint.js';
export { SafetensorsFile, SafetensorsError, writeSafetensors, withSafetensors, bf16ToFloat32, f16ToFloat32, float32ToBf16 } from './safetensors.js';
export type { TensorInfo, TensorToWrite } from './safetensors.js';
export { Rng } from './random.js';
export { padBatch, checkBatch, positionsFromMask, lastRealIndex } from './batch.js';
export type { TokenBatch, PadSide } from './batch.js';
export type { LinearHook } from './qwen3/linear-hook.js';
export { parseQwen3Config, readQwen3Config, qwen3ConfigToJson, qwen3ParameterCount, QWEN3_0_6B_CONFIG } from './qwen3/config.js';
export type { Qwen3Config } from './qwen3/config.js';
export { Qwen3Model } from './qwen3/model.js';
export type { ForwardOptions, ResidualAdd, PositionSelector, KvCache } from './qwen3/model.js';
export { loadQwen3, createRandomQwen3, checkCheckpoint } from './qwen3/load.js';
export type { LoadOptions, LoadReport } from './qwen3/load.js';
export { randomQwen3Tensors } from './qwen3/random-weights.js';
export type { RandomWeightsOptions } from './qwen3/random-weights.js';
export { qwen3ParamSpecs, linearShapes, LINEAR_SUFFIXES } from './qwen3/weights.js';
export type { ParamSpec } from './qwen3/weights.js';
export { frozenLinear, frozenLinearOutIn, rmsNorm } from './qwen3/ops.js';
export { Tokenizer, loadTokenizer, hasTokenizer } from './tokenizer.js';
export type { ChatMessage, ChatTemplateOptions } from './tokenizer.js';
export { generate, sampleToken, readGenerationConfig } from './generate.js';
export type { GenerateOptions, GenerateResult, SamplingParams } from './generate.js';
export { writeTinyQwen3, tinyQwen3Config, qwen3TokenizerFilesDir } from './tiny-qwen3.js';
export type { TinyQwen3Options } from './tiny-qwen3.js';
export { inspectModel } from './inspect.js';
export type { ModelInspection } from './inspect.js';
/**
 * Register tfjs's gradient functions (tfjs-core's Node bundle ships none; takes a few seconds once per
 * process). Call before any tf.grad / variableGrads / optimizer use.
 */
export { registerAllGradients as enableGradients } from './native/register-gradients.js';
