/**
 * The Qwen3 parameter set by Hugging Face name. Every parameter is held on the device in its PyTorch shape
 * ([out, in] for Linear weights: see ops.ts for why weights stay in that layout); a tied checkpoint keeps ONE
 * copy of the embedding, used for token lookup and as the output projection.
 */
import type { Qwen3Config } from './config.js';

export interface ParamSpec {
  name: string;
  /** shape in the checkpoint / PyTorch ([out, in] for Linear weights) */
  shape: number[];
}

export const LINEAR_SUFFIXES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
] as const;

export const EMBED = 'model.embed_tokens.weight';
export const LM_HEAD = 'lm_head.weight';
export const FINAL_NORM = 'model.norm.weight';

/** Linear module shapes [out, in] of one decoder layer. */
export function linearShapes(c: Qwen3Config): Record<(typeof LINEAR_SUFFIXES)[number], [number, number]> {
  const e = c.hiddenSize;
  return {
    'self_attn.q_proj': [c.numHeads * c.headDim, e],
    'self_attn.k_proj': [c.numKvHeads * c.headDim, e],
    'self_attn.v_proj': [c.numKvHeads * c.headDim, e],
    'self_attn.o_proj': [e, c.numHeads * c.headDim],
    'mlp.gate_proj': [c.intermediateSize, e],
    'mlp.up_proj': [c.intermediateSize, e],
    'mlp.down_proj': [e, c.intermediateSize],
  };
}

/** Every parameter in transformers' named_parameters() order (tied lm_head listed once, as the embedding). */
export function qwen3ParamSpecs(c: Qwen3Config): ParamSpec[] {
  const specs: ParamSpec[] = [{ name: EMBED, shape: [c.vocabSize, c.hiddenSize]}];
  const shapes = linearShapes(c);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    for (const s of LINEAR_SUFFIXES.slice(0, 4)) specs.push({ name: `${p}.${s}.weight`, shape: shapes[s] });
    specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim] });
    specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim] });
    for (const s of LINEAR_SUFFIXES.slice(4)) specs.push({ name: `${p}.${s}.weight`, shape: shapes[s] });
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize] });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize] });
  }
  specs.push({ name: FINAL_NORM, shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) specs.push({ name: LM_HEAD, shape: [c.vocabSize, c.hiddenSize] });
  return specs;
}
