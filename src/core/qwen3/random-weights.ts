/**
 * Random Qwen3 weights, deterministic from a seed, without TensorFlow.js (the tiny-model writer must stay cheap).
 */
import { Rng } from '../random.js';
import type { Qwen3Config } from './config.js';
import { qwen3ParamSpecs, type ParamSpec } from './weights.js';

export interface RandomWeightsOptions {
  seed: number;
  /** standard deviation of linear and embedding weights (transformers' initializer_range is 0.02) */
  std?: number;
  /** standard deviation of the RMSNorm weights around 1 (0 gives transformers' init of exactly 1) */
  normStd?: number;
}

/**
 * Random Qwen3 weights in PyTorch layout, deterministic from the seed, produced one tensor at a time in
 * named_parameters() order. Shared by the tiny-model generator (written to disk) and in-memory construction.
 */
export function* randomQwen3Tensors(config: Qwen3Config, options: RandomWeightsOptions): Generator<{ spec: ParamSpec; data: Float32Array }> {
  const rng = new Rng(options.seed);
  const std = options.std ?? 0.02;
  const normStd = options.normStd ?? 0.1;
  for (const spec of qwen3ParamSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const isNorm = spec.shape.length === 1;
    const data = isNorm ? rng.normalArray(n, 1, normStd) : rng.normalArray(n, 0, std);
    yield { spec, data };
  }
}

