/**
 * Build a Qwen3Model from a Hugging Face model directory (or Hub id in the local cache), or from weights made
 * in memory. Every tensor is checked against config.json before anything is allocated on the device; errors
 * name the file and the tensor.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend.js';
import { Checkpoint } from '../checkpoint.js';
import { resolveModelDir, type ModelDir, type ResolveOptions } from '../model-dir.js';
import { readQwen3Config, type Qwen3Config } from './config.js';
import { checkConfigAgainstWeights } from './config-vs-weights.js';
import { Qwen3Model } from './model.js';
import { randomQwen3Tensors, type RandomWeightsOptions } from './random-weights.js';
import { LM_HEAD, qwen3ParamSpecs, type ParamSpec } from './weights.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export interface LoadOptions extends ResolveOptions {
  /** called after each tensor is on the device */
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface LoadReport {
  modelDir: ModelDir;
  /** dtype -> number of tensors, as stored in the checkpoint */
  dtypes: Record<string, number>;
  /** checkpoint tensors the model does not use (e.g. a tied lm_head.weight) */
  unused: string[];
}

/** Check the checkpoint's names, shapes and dtypes against the config. Throws with file and tensor named. */
export function checkCheckpoint(ckpt: Checkpoint, config: Qwen3Config, dir: string): { specs: ParamSpec[]; unused: string[] } {
  const specs = qwen3ParamSpecs(config);
  const problems: string[] = [];
  for (const s of specs) {
    const info = ckpt.info(s.name);
    if (info === undefined) {
      problems.push(`tensor "${s.name}" is missing (expected shape [${s.shape.join(', ')}] from config.json)`);
      continue;
    }
    if (!FLOAT_DTYPES.has(info.dtype)) problems.push(`${info.file}: tensor "${s.name}" has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`);
    if (info.shape.length !== s.shape.length || info.shape.some((d, i) => d !== s.shape[i])) {
      problems.push(`${info.file}: tensor "${s.name}" has shape [${info.shape.join(', ')}] but config.json implies [${s.shape.join(', ')}]`);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const unused = ckpt.names().filter((n) => !known.has(n));
  if (config.tieWordEmbeddings) {
    const lm = ckpt.info(LM_HEAD);
    if (lm !== undefined && (lm.shape.length !== 2 || lm.shape[0] !== config.vocabSize || lm.shape[1] !== config.hiddenSize)) {
      problems.push(`${lm.file}: tensor "${LM_HEAD}" has shape [${lm.shape.join(', ')}] but config.json implies [${config.vocabSize}, ${config.hiddenSize}]`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('\n  ');
    const more = problems.length > 8 ? `\n  … and ${problems.length - 8} more` : '';
    throw new Error(`${dir}: checkpoint does not match config.json:\n  ${shown}${more}`);
  }
  return { specs, unused };
}

/** Upload one parameter (PyTorch layout, float32). */
function toDevice(spec: ParamSpec, data: Float32Array): tf.Tensor {
  return tf.tensor(data, spec.shape, 'float32');
}

/** Load a Qwen3 model from a directory or a Hub id in the local HF cache. */
export async function loadQwen3(idOrPath: string, options: LoadOptions = {}): Promise<{ model: Qwen3Model; report: LoadReport }> {
  const resolved = resolveModelDir(idOrPath, options);
  if (!resolved.ok) throw new Error(resolved.error);
  const md = resolved.value;
  const cfg = readQwen3Config(md.dir);
  if (!cfg.ok) throw new Error(cfg.error);
  const config = cfg.value;
  await ensureBackend();
  const ckpt = Checkpoint.openDir(md.dir, md.weightFiles, md.indexFile);
  const params = new Map<string, tf.Tensor>();
  try {
    const consistent = checkConfigAgainstWeights(config, ckpt, join(md.dir, 'config.json'));
    if (!consistent.ok) throw new Error(consistent.error);
    const { specs, unused } = checkCheckpoint(ckpt, config, md.dir);
    let done = 0;
    for (const s of specs) {
      const data = ckpt.readFloat32(s.name);
      params.set(s.name, toDevice(s, data));
      done++;
      options.onProgress?.(done, specs.length, s.name);
    }
    const model = new Qwen3Model(config, params, md.dir);
    return { model, report: { modelDir: md, dtypes: Object.fromEntries(ckpt.dtypes()), unused } };
  } catch (e) {
    for (const t of params.values()) t.dispose();
    throw e;
  } finally {
    ckpt.close();
  }
}

/**
 * A model with random weights built directly in memory (no file): e.g. the Qwen3-0.6B shape for benchmarks.
 * The same seed gives the same weights as the tiny-model generator writes for the same config.
 */
export async function createRandomQwen3(config: Qwen3Config, options: RandomWeightsOptions): Promise<Qwen3Model> {
  await ensureBackend();
  const params = new Map<string, tf.Tensor>();
  try {
    for (const { spec, data } of randomQwen3Tensors(config, options)) params.set(spec.name, toDevice(spec, data));
    return new Qwen3Model(config, params, `random Qwen3 (seed ${options.seed})`);
  } catch (e) {
    for (const t of params.values()) t.dispose();
    throw e;
  }
}

