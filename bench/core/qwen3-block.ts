/**
 * One Qwen3 decoder block built from the core's own ops (src/core/qwen3/ops.ts: frozenLinear with its
 * custom gradient, bmm, rmsNorm, applyRope, silu; kernel-layout [in, out] weights, GQA without repeating
 * K/V), so kernel profiles and step times here are those of the real model's layers. Optional LoRA
 * (r, α) on all seven linears, as trainable A [in, r] / B [r, out] variables.
 * Weights are random (seeded); only shapes and op mix matter here.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { applyRope, bmm, frozenLinear, rmsNorm, silu } from '../../src/core/qwen3/ops.js';
import { inverseFrequencies, ropeTables as coreRopeTables } from '../../src/core/qwen3/rope.js';

export interface BlockShape {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  mlp: number;
  eps: number;
  ropeTheta: number;
}

export const QWEN3_06B_BLOCK: BlockShape = {
  hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, mlp: 3072, eps: 1e-6, ropeTheta: 1e6,
};

export const LINEARS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LinearName = (typeof LINEARS)[number];

export interface BlockWeights {
  inputNorm: tfc.Tensor1D;
  postNorm: tfc.Tensor1D;
  qNorm: tfc.Tensor1D;
  kNorm: tfc.Tensor1D;
  /** kernel layout [in, out] (the core's storage) */
  kernel: Record<LinearName, tfc.Tensor2D>;
}

export interface Lora {
  a: tfc.Variable; // [in, r]
  b: tfc.Variable; // [r, out]
  scale: number;
}

/** [in, out] of each linear. */
export function linearShape(s: BlockShape, name: LinearName): [number, number] {
  switch (name) {
    case 'q': return [s.hidden, s.heads * s.headDim];
    case 'k': case 'v': return [s.hidden, s.kvHeads * s.headDim];
    case 'o': return [s.heads * s.headDim, s.hidden];
    case 'gate': case 'up': return [s.hidden, s.mlp];
    case 'down': return [s.mlp, s.hidden];
  }
}

export function randomBlock(tf: typeof tfc, s: BlockShape, seed: number): BlockWeights {
  const kernel = {} as Record<LinearName, tfc.Tensor2D>;
  LINEARS.forEach((name, i) => {
    const [inp, out] = linearShape(s, name);
    kernel[name] = tf.randomNormal([inp, out], 0, 1 / Math.sqrt(inp), 'float32', seed + i);
  });
  return {
    inputNorm: tf.randomUniform([s.hidden], 0.8, 1.2, 'float32', seed + 10),
    postNorm: tf.randomUniform([s.hidden], 0.8, 1.2, 'float32', seed + 11),
    qNorm: tf.randomUniform([s.headDim], 0.8, 1.2, 'float32', seed + 12),
    kNorm: tf.randomUniform([s.headDim], 0.8, 1.2, 'float32', seed + 13),
    kernel,
  };
}

export function randomLoras(tf: typeof tfc, s: BlockShape, rank: number, alpha: number, seed: number): Record<LinearName, Lora> {
  const out = {} as Record<LinearName, Lora>;
  LINEARS.forEach((name, i) => {
    const [inp, o] = linearShape(s, name);
    const bound = 1 / Math.sqrt(inp);
    out[name] = {
      a: tf.variable(tf.randomUniform([inp, rank], -bound, bound, 'float32', seed + 100 + i), true, `lora_a_${name}_${seed}`),
      // B is small instead of 0 so that every gradient path does real work in the benchmark.
      b: tf.variable(tf.randomNormal([rank, o], 0, 1e-3, 'float32', seed + 200 + i), true, `lora_b_${name}_${seed}`),
      scale: alpha / rank,
    };
  });
  return out;
}

/** cos/sin [1, 1, S, D/2] for positions 0..S-1, computed by the core's float32 RoPE tables. */
export function ropeTables(tf: typeof tfc, s: BlockShape, seq: number): { cos: tfc.Tensor4D; sin: tfc.Tensor4D } {
  const positions = [Array.from({ length: seq }, (_, i) => i)];
  const { cos, sin } = coreRopeTables(positions, inverseFrequencies(s.headDim, s.ropeTheta));
  return { cos: tf.tensor4d(cos, [1, 1, seq, s.headDim / 2]), sin: tf.tensor4d(sin, [1, 1, seq, s.headDim / 2]) };
}

/** Additive causal mask [1, 1, S, S]. */
export function causalMask(tf: typeof tfc, seq: number): tfc.Tensor4D {
  const m = new Float32Array(seq * seq);
  for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) m[i * seq + j] = -1e9;
  return tf.tensor4d(m, [1, 1, seq, seq]);
}

function linear(tf: typeof tfc, x: tfc.Tensor2D, kernel: tfc.Tensor2D, lora: Lora | undefined): tfc.Tensor2D {
  const base = frozenLinear(x, kernel);
  if (lora === undefined) return base;
  const delta = tf.matMul(tf.matMul(x, lora.a), lora.b);
  return tf.add(base, tf.mul(delta, lora.scale));
}

export interface BlockInputs {
  cos: tfc.Tensor4D;
  sin: tfc.Tensor4D;
  mask: tfc.Tensor4D;
}

/** Timing hook: called around each sub-layer so a caller can attribute time (forward only). */
export type SectionHook = (section: 'norms' | 'attention' | 'mlp', fn: () => tfc.Tensor) => tfc.Tensor;
const noHook: SectionHook = (_s, fn) => fn();

/** The core's layer math (Qwen3Model#layer) on x [B*S, E]; returns the new residual [B*S, E]. */
export function blockForward(
  tf: typeof tfc, s: BlockShape, w: BlockWeights, x: tfc.Tensor2D, batch: number, inputs: BlockInputs,
  loras?: Record<LinearName, Lora>, hook: SectionHook = noHook,
): tfc.Tensor2D {
  const seq = (x.shape[0] ?? 0) / batch;
  const { heads: H, kvHeads: KVH, headDim: D } = s;
  const nRep = H / KVH;
  const h = hook('norms', () => rmsNorm(x, w.inputNorm, s.eps)) as tfc.Tensor2D;
  const attn = hook('attention', () => {
    let q = tf.reshape(linear(tf, h, w.kernel.q, loras?.q), [batch, seq, H, D]) as tfc.Tensor4D;
    let k = tf.reshape(linear(tf, h, w.kernel.k, loras?.k), [batch, seq, KVH, D]) as tfc.Tensor4D;
    let v = tf.reshape(linear(tf, h, w.kernel.v, loras?.v), [batch, seq, KVH, D]) as tfc.Tensor4D;
    q = tf.transpose(rmsNorm(q, w.qNorm, s.eps), [0, 2, 1, 3]);
    k = tf.transpose(rmsNorm(k, w.kNorm, s.eps), [0, 2, 1, 3]);
    v = tf.transpose(v, [0, 2, 1, 3]);
    q = applyRope(q, inputs.cos, inputs.sin);
    k = applyRope(k, inputs.cos, inputs.sin);
    const qg = tf.reshape(q, [batch * KVH, nRep * seq, D]) as tfc.Tensor3D;
    const kT = tf.reshape(tf.transpose(k, [0, 1, 3, 2]), [batch * KVH, D, seq]) as tfc.Tensor3D;
    const scores = tf.add(tf.reshape(tf.mul(bmm(qg, kT), Math.fround(1 / Math.sqrt(D))), [batch, H, seq, seq]), inputs.mask);
    const probs = tf.reshape(tf.softmax(scores, -1), [batch * KVH, nRep * seq, seq]) as tfc.Tensor3D;
    const ctx = bmm(probs, tf.reshape(v, [batch * KVH, seq, D]) as tfc.Tensor3D);
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [batch, H, seq, D]), [0, 2, 1, 3]), [batch * seq, H * D]) as tfc.Tensor2D;
    return linear(tf, merged, w.kernel.o, loras?.o);
  });
  const resid = tf.add(x, attn) as tfc.Tensor2D;
  const h2 = hook('norms', () => rmsNorm(resid, w.postNorm, s.eps)) as tfc.Tensor2D;
  const mlp = hook('mlp', () => {
    const gate = linear(tf, h2, w.kernel.gate, loras?.gate);
    const up = linear(tf, h2, w.kernel.up, loras?.up);
    return linear(tf, tf.mul(silu(gate), up) as tfc.Tensor2D, w.kernel.down, loras?.down);
  });
  return tf.add(resid, mlp) as tfc.Tensor2D;
}
