/**
 * config.json against the checkpoint's safetensors headers, before anything is sized from the config. A config
 * that claims 1,000,000 layers or a vocabulary of 10^9 would otherwise make the loader build per-layer tensor lists
 * and messages (gigabytes, minutes) before it noticed; this compares the config's dimensions with the shapes of a
 * few named tensors (header only: no tensor data is read) and reports the first mismatch, naming the key and the
 * tensor. The full per-tensor check (load.ts `checkCheckpoint`) runs after it, on a config now known to be sane.
 */
import type { Checkpoint, CheckpointTensorInfo } from '../checkpoint.js';
import { err, ok, type Result } from '../../contract/result.js';
import type { Qwen3Config } from './config.js';
import { EMBED, FINAL_NORM, LM_HEAD } from './weights.js';

const LAYER_TENSOR = /^model\.layers\.(\d+)\./;

function shapeText(info: CheckpointTensorInfo): string {
  return `[${info.shape.join(', ')}]`;
}

/** The first place where config.json (`configFile`) and the checkpoint disagree, as one line; ok when none. */
export function checkConfigAgainstWeights(config: Qwen3Config, ckpt: Checkpoint, configFile: string): Result<void, string> {
  const tensor = (name: string): Result<CheckpointTensorInfo, string> => {
    const info = ckpt.info(name);
    return info === undefined ? err(`the checkpoint has no tensor "${name}", which every Qwen3 checkpoint holds`) : ok(info);
  };
  const mismatch = (key: string, value: number, info: CheckpointTensorInfo, name: string, implied: string): Result<void, string> =>
    err(`${configFile}: "${key}" is ${value}, but tensor "${name}" in ${info.file} has shape ${shapeText(info)} (config.json implies ${implied})`);

  const embed = tensor(EMBED);
  if (!embed.ok) return err(`${configFile}: ${embed.error}`);
  const e = embed.value;
  const implied = `[${config.vocabSize}, ${config.hiddenSize}]`;
  if (e.shape.length !== 2) return mismatch('hidden_size', config.hiddenSize, e, EMBED, implied);
  if (e.shape[0] !== config.vocabSize) return mismatch('vocab_size', config.vocabSize, e, EMBED, implied);
  if (e.shape[1] !== config.hiddenSize) return mismatch('hidden_size', config.hiddenSize, e, EMBED, implied);

  // layers: the highest index present, from the names alone (a checkpoint may hold more layers than the config
  // uses, as transformers allows: the extra tensors are reported as unused, not an error)
  let layers = 0;
  for (const name of ckpt.names()) {
    const match = LAYER_TENSOR.exec(name);
    if (match) layers = Math.max(layers, Number(match[1]) + 1);
  }
  if (config.numLayers > layers) {
    const missing = `model.layers.${layers}.input_layernorm.weight`;
    const has = layers === 0 ? 'no decoder layers' : `layers 0 to ${layers - 1} only`;
    return err(`${configFile}: "num_hidden_layers" is ${config.numLayers}, but the checkpoint has ${has} (no tensor "${missing}")`);
  }

  const first = 'model.layers.0';
  const checks: { name: string; key: string; value: number; shape: number[] }[] = [
    { name: `${first}.self_attn.q_norm.weight`, key: 'head_dim', value: config.headDim, shape: [config.headDim] },
    { name: `${first}.self_attn.q_proj.weight`, key: 'num_attention_heads', value: config.numHeads, shape: [config.numHeads * config.headDim, config.hiddenSize] },
    { name: `${first}.self_attn.k_proj.weight`, key: 'num_key_value_heads', value: config.numKvHeads, shape: [config.numKvHeads * config.headDim, config.hiddenSize] },
    { name: `${first}.mlp.gate_proj.weight`, key: 'intermediate_size', value: config.intermediateSize, shape: [config.intermediateSize, config.hiddenSize] },
    { name: FINAL_NORM, key: 'hidden_size', value: config.hiddenSize, shape: [config.hiddenSize] },
  ];
  for (const check of checks) {
    const found = tensor(check.name);
    if (!found.ok) return err(`${configFile}: ${found.error}`);
    const info = found.value;
    if (info.shape.length !== check.shape.length || info.shape.some((d, i) => d !== check.shape[i])) {
      return mismatch(check.key, check.value, info, check.name, `[${check.shape.join(', ')}]`);
    }
  }
  if (!config.tieWordEmbeddings && ckpt.info(LM_HEAD) === undefined) {
    return err(`${configFile}: "tie_word_embeddings" is false, but the checkpoint has no tensor "${LM_HEAD}" (a tied checkpoint? set it to true)`);
  }
  return ok(undefined);
}
