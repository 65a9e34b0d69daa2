/**
 * The Qwen3 parameter set by Hugging Face name, and how each one is stored on the device.
 *
 * Linear weights (and the output projection) are held in "kernel" layout [in, out] = Wᵀ so that the forward
 * pass is a plain matMul (transposeB is ~10x slower on wasm). A tied checkpoint keeps ONE copy of the
 * embedding, as the output kernel [hidden, vocab]; token lookup gathers its columns.
 */
import type { Qwen3Config } from './config.js';

export type ParamLayout = 'kernel' | 'plain';

export interface ParamSpec {
  name: string;
  /** shape in the checkpoint / PyTorch ([out, in] for Linear weights) */
  shape: number[];
  layout: ParamLayout;
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
  const specs: ParamSpec[] = [{ name: EMBED, shape: [c.vocabSize, c.hiddenSize], layout: c.tieWordEmbeddings ? 'kernel' : 'plain' }];
  const shapes = linearShapes(c);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    for (const s of LINEAR_SUFFIXES.slice(0, 4)) specs.push({ name: `${p}.${s}.weight`, shape: shapes[s], layout: 'kernel' });
    specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim], layout: 'plain' });
    specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim], layout: 'plain' });
    for (const s of LINEAR_SUFFIXES.slice(4)) specs.push({ name: `${p}.${s}.weight`, shape: shapes[s], layout: 'kernel' });
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize], layout: 'plain' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize], layout: 'plain' });
  }
  specs.push({ name: FINAL_NORM, shape: [c.hiddenSize], layout: 'plain' });
  if (!c.tieWordEmbeddings) specs.push({ name: LM_HEAD, shape: [c.vocabSize, c.hiddenSize], layout: 'kernel' });
  return specs;
}

/** [rows, cols] row-major → [cols, rows] row-major, blocked for cache locality. */
export function transposeMatrix(src: Float32Array, rows: number, cols: number): Float32Array {
  if (src.length !== rows * cols) throw new Error(`internal: transposeMatrix got ${src.length} values for [${rows}, ${cols}]`);
  const out = new Float32Array(src.length);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[base + c] as number;
      }
    }
  }
  return out;
}
