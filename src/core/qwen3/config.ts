/**
 * Qwen3 config.json → a validated, camel-cased config. Field names, defaults and accepted variants follow
 * transformers' Qwen3Config (v4 top-level `rope_theta` and v5 `rope_parameters` both accepted). Anything we do
 * not implement (sliding windows, attention biases, RoPE scaling) is an error naming the key, never a silent
 * approximation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../contract/result.js';

export interface Qwen3Config {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  /** every id that ends generation (config's eos_token_id may be an int or a list) */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** checkpoint dtype as declared (torch_dtype or dtype), informational */
  declaredDtype: string | null;
}

/** Everything a config.json writer needs to produce a file transformers loads as Qwen3ForCausalLM. */
export function qwen3ConfigToJson(c: Qwen3Config, dtype = 'float32'): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    head_dim: c.headDim,
    hidden_act: 'silu',
    hidden_size: c.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositionEmbeddings,
    max_window_layers: c.numLayers,
    model_type: 'qwen3',
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    ...(c.padTokenId !== null ? { pad_token_id: c.padTokenId } : {}),
    rms_norm_eps: c.rmsNormEps,
    rope_scaling: null,
    rope_theta: c.ropeTheta,
    sliding_window: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: dtype,
    transformers_version: '4.51.0',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: c.vocabSize,
  };
}

type Raw = Record<string, unknown>;

class ConfigError extends Error {}

function posInt(raw: Raw, key: string, file: string): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new ConfigError(`${file}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optInt(raw: Raw, key: string, file: string): number | null {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfigError(`${file}: "${key}" must be a non-negative integer or null, got ${JSON.stringify(v)}`);
  }
  return v;
}

function posNumber(v: unknown, key: string, file: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`${file}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function isDefaultRope(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  const r = v as Raw;
  const type = r['rope_type'] ?? r['type'];
  return type === undefined || type === 'default';
}

function ropeTheta(raw: Raw, file: string): number {
  const params = raw['rope_parameters'];
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) {
      throw new ConfigError(`${file}: "rope_parameters" must be an object, got ${JSON.stringify(params)}`);
    }
    if (!isDefaultRope(params)) {
      throw new ConfigError(`${file}: "rope_parameters.rope_type" ${JSON.stringify((params as Raw)['rope_type'])} is not supported (only "default" RoPE is implemented)`);
    }
    const t = (params as Raw)['rope_theta'];
    if (t !== undefined) return posNumber(t, 'rope_parameters.rope_theta', file);
  }
  if (!isDefaultRope(raw['rope_scaling'])) {
    throw new ConfigError(`${file}: "rope_scaling" ${JSON.stringify(raw['rope_scaling'])} is not supported (only default RoPE, rope_scaling null, is implemented)`);
  }
  const t = raw['rope_theta'];
  // Qwen3Config's default rope_theta
  if (t === undefined) return 10000;
  return posNumber(t, 'rope_theta', file);
}

/** Validate a parsed config.json. `file` names the file in error messages. */
export function parseQwen3Config(raw: unknown, file = 'config.json'): Result<Qwen3Config, string> {
  try {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: not a JSON object`);
    const r = raw as Raw;
    const modelType = r['model_type'];
    if (modelType !== 'qwen3') {
      throw new ConfigError(`${file}: "model_type" is ${JSON.stringify(modelType)}; wsflow implements Qwen3 only (model_type "qwen3", Qwen3ForCausalLM)`);
    }
    const act = r['hidden_act'] ?? 'silu';
    if (act !== 'silu') throw new ConfigError(`${file}: "hidden_act" ${JSON.stringify(act)} is not supported (Qwen3 uses "silu")`);
    if (r['attention_bias'] === true) throw new ConfigError(`${file}: "attention_bias": true is not supported (Qwen3 checkpoints have no attention biases)`);
    if (r['use_sliding_window'] === true) throw new ConfigError(`${file}: "use_sliding_window": true is not supported (full attention only)`);
    const layerTypes = r['layer_types'];
    if (Array.isArray(layerTypes) && layerTypes.some((t) => t !== 'full_attention')) {
      throw new ConfigError(`${file}: "layer_types" contains ${JSON.stringify(layerTypes.find((t) => t !== 'full_attention'))}; only "full_attention" layers are supported`);
    }
    const hiddenSize = posInt(r, 'hidden_size', file);
    const numHeads = posInt(r, 'num_attention_heads', file);
    const numKvHeads = r['num_key_value_heads'] === undefined || r['num_key_value_heads'] === null ? numHeads : posInt(r, 'num_key_value_heads', file);
    if (numHeads % numKvHeads !== 0) {
      throw new ConfigError(`${file}: "num_attention_heads" (${numHeads}) must be a multiple of "num_key_value_heads" (${numKvHeads})`);
    }
    let headDim: number;
    if (r['head_dim'] === undefined || r['head_dim'] === null) {
      if (hiddenSize % numHeads !== 0) throw new ConfigError(`${file}: "head_dim" is missing and hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
      headDim = hiddenSize / numHeads;
    } else headDim = posInt(r, 'head_dim', file);
    if (headDim % 2 !== 0) throw new ConfigError(`${file}: "head_dim" must be even for RoPE, got ${headDim}`);
    const eps = r['rms_norm_eps'] === undefined ? 1e-6 : posNumber(r['rms_norm_eps'], 'rms_norm_eps', file);
    const tie = r['tie_word_embeddings'];
    if (tie !== undefined && typeof tie !== 'boolean') throw new ConfigError(`${file}: "tie_word_embeddings" must be true or false, got ${JSON.stringify(tie)}`);
    const eosRaw = r['eos_token_id'];
    let eosTokenIds: number[];
    if (eosRaw === undefined || eosRaw === null) eosTokenIds = [];
    else if (typeof eosRaw === 'number' && Number.isSafeInteger(eosRaw) && eosRaw >= 0) eosTokenIds = [eosRaw];
    else if (Array.isArray(eosRaw) && eosRaw.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) eosTokenIds = eosRaw as number[];
    else throw new ConfigError(`${file}: "eos_token_id" must be an integer or a list of integers, got ${JSON.stringify(eosRaw)}`);
    const dtype = r['torch_dtype'] ?? r['dtype'];
    const cfg: Qwen3Config = {
      vocabSize: posInt(r, 'vocab_size', file),
      hiddenSize,
      intermediateSize: posInt(r, 'intermediate_size', file),
      numLayers: posInt(r, 'num_hidden_layers', file),
      numHeads,
      numKvHeads,
      headDim,
      rmsNormEps: eps,
      ropeTheta: ropeTheta(r, file),
      // Qwen3Config's default is false (unlike PretrainedConfig's)
      tieWordEmbeddings: tie ?? false,
      maxPositionEmbeddings: r['max_position_embeddings'] === undefined ? 32768 : posInt(r, 'max_position_embeddings', file),
      bosTokenId: optInt(r, 'bos_token_id', file),
      eosTokenIds,
      padTokenId: optInt(r, 'pad_token_id', file),
      declaredDtype: typeof dtype === 'string' ? dtype : null,
    };
    return ok(cfg);
  } catch (e) {
    if (e instanceof ConfigError) return err(e.message);
    throw e;
  }
}

/** Read and validate DIR/config.json. */
export function readQwen3Config(dir: string): Result<Qwen3Config, string> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return err(`${file}: cannot read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return err(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseQwen3Config(raw, file);
}

/** Parameter count as transformers reports it (tied lm_head counted once). */
export function qwen3ParameterCount(c: Qwen3Config): number {
  const e = c.hiddenSize;
  const attn = e * c.numHeads * c.headDim * 2 + e * c.numKvHeads * c.headDim * 2 + 2 * c.headDim;
  const mlp = 3 * e * c.intermediateSize;
  const perLayer = attn + mlp + 2 * e;
  const embed = c.vocabSize * e;
  return embed + c.numLayers * perLayer + e + (c.tieWordEmbeddings ? 0 : embed);
}

/** Qwen/Qwen3-0.6B's config.json values (spec/ml-core.md A.1), for building same-shaped random models. */
export const QWEN3_0_6B_CONFIG: Readonly<Qwen3Config> = Object.freeze({
  vocabSize: 151936,
  hiddenSize: 1024,
  intermediateSize: 3072,
  numLayers: 28,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 128,
  rmsNormEps: 1e-6,
  ropeTheta: 1000000,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 40960,
  bosTokenId: 151643,
  eosTokenIds: [151645],
  padTokenId: null,
  declaredDtype: 'bfloat16',
});
