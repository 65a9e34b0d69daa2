/**
 * A Qwen3 decoder block assembled from plain tfjs ops, for kernel profiling and the one-block
 * training-step benchmark (same math as spec/ml-core.md: pre-norm, q/k RMSNorm per head, half-split
 * RoPE θ=1e6, GQA, causal softmax attention, SwiGLU MLP), with optional LoRA on all seven linears.
 * Weights are random (seeded); only shapes and op mix matter here.
 */
import type * as tfc from '@tensorflow/tfjs-core';

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
  inputNorm: tfc.Tensor;
  postNorm: tfc.Tensor;
  qNorm: tfc.Tensor;
  kNorm: tfc.Tensor;
  /** HF layout [out, in]. */
  linear: Record<LinearName, tfc.Tensor>;
}

export interface Lora {
  a: tfc.Variable; // [r, in]
  b: tfc.Variable; // [out, r]
  scale: number;
}

export function linearShape(s: BlockShape, name: LinearName): [number, number] {
  switch (name) {
    case 'q': return [s.heads * s.headDim, s.hidden];
    case 'k': case 'v': return [s.kvHeads * s.headDim, s.hidden];
    case 'o': return [s.hidden, s.heads * s.headDim];
    case 'gate': case 'up': return [s.mlp, s.hidden];
    case 'down': return [s.hidden, s.mlp];
  }
}

export function randomBlock(tf: typeof tfc, s: BlockShape, seed: number): BlockWeights {
  const linear = {} as Record<LinearName, tfc.Tensor>;
  LINEARS.forEach((name, i) => {
    const [out, inp] = linearShape(s, name);
    linear[name] = tf.randomNormal([out, inp], 0, 1 / Math.sqrt(inp), 'float32', seed + i);
  });
  return {
    inputNorm: tf.randomUniform([s.hidden], 0.8, 1.2, 'float32', seed + 10),
    postNorm: tf.randomUniform([s.hidden], 0.8, 1.2, 'float32', seed + 11),
    qNorm: tf.randomUniform([s.headDim], 0.8, 1.2, 'float32', seed + 12),
    kNorm: tf.randomUniform([s.headDim], 0.8, 1.2, 'float32', seed + 13),
    linear,
  };
}

export function randomLoras(tf: typeof tfc, s: BlockShape, rank: number, alpha: number, seed: number): Record<LinearName, Lora> {
  const out = {} as Record<LinearName, Lora>;
  LINEARS.forEach((name, i) => {
    const [o, inp] = linearShape(s, name);
    const bound = 1 / Math.sqrt(inp);
    out[name] = {
      a: tf.variable(tf.randomUniform([rank, inp], -bound, bound, 'float32', seed + 100 + i), true, `lora_a_${name}_${seed}`),
      // B is small instead of 0 so that every gradient path does real work in the benchmark.
      b: tf.variable(tf.randomNormal([o, rank], 0, 1e-3, 'float32', seed + 200 + i), true, `lora_b_${name}_${seed}`),
      scale: alpha / rank,
    };
  });
  return out;
}

export function ropeTables(tf: typeof tfc, s: BlockShape, seq: number): { cos: tfc.Tensor; sin: tfc.Tensor } {
  const half = s.headDim / 2;
  const cos = new Float32Array(seq * s.headDim);
  const sin = new Float32Array(seq * s.headDim);
  for (let p = 0; p < seq; p++) {
    for (let i = 0; i < half; i++) {
      const invFreq = Math.fround(1 / Math.pow(s.ropeTheta, (2 * i) / s.headDim));
      const angle = Math.fround(p * invFreq);
      for (const j of [i, i + half]) {
        cos[p * s.headDim + j] = Math.cos(angle);
        sin[p * s.headDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [seq, s.headDim]), sin: tf.tensor2d(sin, [seq, s.headDim]) };
}

export function causalMask(tf: typeof tfc, seq: number): tfc.Tensor {
  const m = new Float32Array(seq * seq);
  for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) m[i * seq + j] = -1e9;
  return tf.tensor2d(m, [seq, seq]);
}

export function rmsNorm(tf: typeof tfc, x: tfc.Tensor, w: tfc.Tensor, eps: number): tfc.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
}

function linear(tf: typeof tfc, x2d: tfc.Tensor, w: tfc.Tensor, lora: Lora | undefined): tfc.Tensor {
  const base = tf.matMul(x2d, w, false, true);
  if (lora === undefined) return base;
  const delta = tf.matMul(tf.matMul(x2d, lora.a, false, true), lora.b, false, true);
  return tf.add(base, tf.mul(delta, lora.scale));
}

function rope(tf: typeof tfc, x: tfc.Tensor, cos: tfc.Tensor, sin: tfc.Tensor): tfc.Tensor {
  // x: [B, H, S, D]; cos/sin: [S, D]
  const half = (x.shape[3] ?? 0) / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

export interface BlockInputs {
  cos: tfc.Tensor;
  sin: tfc.Tensor;
  mask: tfc.Tensor;
}

/** Timing hook: called around each sub-layer so a caller can attribute time (forward only). */
export type SectionHook = (section: 'norms' | 'attention' | 'mlp', fn: () => tfc.Tensor) => tfc.Tensor;
const noHook: SectionHook = (_s, fn) => fn();

export function blockForward(
  tf: typeof tfc, s: BlockShape, w: BlockWeights, x: tfc.Tensor, inputs: BlockInputs,
  loras?: Record<LinearName, Lora>, hook: SectionHook = noHook,
): tfc.Tensor {
  const [batch, seq, hidden] = x.shape as [number, number, number];
  const tokens = batch * seq;
  const group = s.heads / s.kvHeads;
  const h = hook('norms', () => tf.reshape(rmsNorm(tf, x, w.inputNorm, s.eps), [tokens, hidden]));
  const attn = hook('attention', () => {
    const heads = (t: tfc.Tensor, n: number, norm: tfc.Tensor): tfc.Tensor => {
      const r = rmsNorm(tf, tf.reshape(t, [batch, seq, n, s.headDim]), norm, s.eps);
      return rope(tf, tf.transpose(r, [0, 2, 1, 3]), inputs.cos, inputs.sin);
    };
    const q = heads(linear(tf, h, w.linear.q, loras?.q), s.heads, w.qNorm);
    const k = heads(linear(tf, h, w.linear.k, loras?.k), s.kvHeads, w.kNorm);
    const v = tf.transpose(tf.reshape(linear(tf, h, w.linear.v, loras?.v), [batch, seq, s.kvHeads, s.headDim]), [0, 2, 1, 3]);
    // GQA without repeating K/V: the `group` query heads of one KV head are stacked along the rows.
    const qg = tf.reshape(q, [batch, s.kvHeads, group * seq, s.headDim]);
    const scores = tf.mul(tf.matMul(qg, k, false, true), 1 / Math.sqrt(s.headDim));
    const masked = tf.add(tf.reshape(scores, [batch, s.kvHeads, group, seq, seq]), inputs.mask);
    const probs = tf.softmax(masked, -1);
    const ctx = tf.matMul(tf.reshape(probs, [batch, s.kvHeads, group * seq, seq]), v);
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [batch, s.heads, seq, s.headDim]), [0, 2, 1, 3]), [tokens, s.heads * s.headDim]);
    return linear(tf, merged, w.linear.o, loras?.o);
  });
  const resid1 = tf.add(tf.reshape(x, [tokens, hidden]), attn);
  const h2 = hook('norms', () => rmsNorm(tf, resid1, w.postNorm, s.eps));
  const mlp = hook('mlp', () => {
    const gate = linear(tf, h2, w.linear.gate, loras?.gate);
    const up = linear(tf, h2, w.linear.up, loras?.up);
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
    return linear(tf, act, w.linear.down, loras?.down);
  });
  return tf.reshape(tf.add(resid1, mlp), [batch, seq, hidden]);
}
