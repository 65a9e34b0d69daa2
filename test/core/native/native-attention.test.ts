/**
 * The native attention kernels (QK-norm + RoPE, and scores/mask/softmax/context in one pass) reached through the
 * model's ops: on `native` each runs as one kernel with the bits of the composed ops on the same backend (the same
 * sgemm calls, the same roundings), QK-norm + RoPE also with the bits of the composed ops on the pure-JS `cpu`
 * backend, and their gradients match the composed ops' autodiff on `cpu` to float tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, QK_NORM_ROPE_KERNEL } from '../../../src/core/native/kernels/attention.js';
import { Rng } from '../../../src/core/random.js';
import { attention, composedAttention, composedQkNormRope, qkNormRope } from '../../../src/core/qwen3/ops.js';

await registerAllGradients();
const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native attention tests: ${enabled.error}`);

interface Input { values: Float32Array; shape: number[] }
type Fn = (...xs: tf.Tensor[]) => tf.Tensor[];

function random(rng: Rng, shape: number[], scale = 1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.normal() * scale;
  return { values, shape };
}

/** cos/sin of positions p·f for f in (0, 1], [rows, 1, S, D/2]. */
function ropeInputs(rows: number, seq: number, d: number, offset: number): [Input, Input] {
  const half = d / 2;
  const cos = new Float32Array(rows * seq * half);
  const sin = new Float32Array(rows * seq * half);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < seq; s++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround((s + offset * r) * Math.pow(1e4, -i / half));
        cos[(r * seq + s) * half + i] = Math.cos(angle);
        sin[(r * seq + s) * half + i] = Math.sin(angle);
      }
    }
  }
  return [{ values: cos, shape: [rows, 1, seq, half] }, { values: sin, shape: [rows, 1, seq, half] }];
}

/** Causal over the last `seq` of `total` slots, and padding: row b masks its last b slots' keys. */
function maskInput(rows: number, seq: number, total: number): Input {
  const values = new Float32Array(rows * seq * total);
  const past = total - seq;
  for (let b = 0; b < rows; b++) {
    for (let s = 0; s < seq; s++) {
      for (let t = 0; t < total; t++) {
        if (t > past + s || t >= total - b) values[(b * seq + s) * total + t] = -1e9;
      }
    }
  }
  return { values, shape: [rows, 1, seq, total] };
}

async function runOn(backend: string, inputs: Input[], fn: Fn): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const outs = tf.tidy(() => fn(...xs));
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...xs, ...outs]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return data;
}

/** exact: bit-identical, else |got − want| ≤ tol·(1 + |want|). */
function assertClose(want: Float32Array[], got: Float32Array[], exact: boolean, tol: number, what: string): void {
  assert.equal(got.length, want.length);
  want.forEach((w, o) => {
    const g = got[o] as Float32Array;
    assert.equal(g.length, w.length);
    for (let i = 0; i < w.length; i++) {
      const a = w[i] as number;
      const b = g[i] as number;
      if (exact ? !Object.is(a, b) : !(Math.abs(a - b) <= tol * (1 + Math.abs(a)))) {
        assert.fail(`${what}: output ${o} element ${i}: want ${a} got ${b}${exact ? '' : ` (tol ${tol})`}`);
      }
    }
  });
}

async function kernelNames(fn: () => tf.Tensor): Promise<string[]> {
  assert.ok(await tf.setBackend('native'));
  const info = await tf.profile(() => fn());
  tf.dispose(info.result as tf.Tensor);
  return info.kernels.map((k) => k.name).filter((name) => name !== '');
}

// [batch, seq, heads, headDim, cos/sin rows]
const ROPE_CASES: Array<[number, number, number, number, number]> = [[1, 1, 1, 2, 1], [2, 7, 3, 8, 2], [3, 5, 2, 16, 1], [1, 64, 16, 128, 1], [4, 33, 8, 128, 4]];

void test('qkNormRope on native is one kernel with the bits of the composed ops on native and on cpu', { skip }, async () => {
  const rng = new Rng(21);
  for (const [b, s, h, d, rows] of ROPE_CASES) {
    const [cos, sin] = ropeInputs(rows, s, d, 3);
    const inputs = [random(rng, [b * s, h * d], 3), random(rng, [d]), cos, sin];
    const fused: Fn = (x, w, c, si) => [qkNormRope(x as tf.Tensor2D, w as tf.Tensor1D, c as tf.Tensor4D, si as tf.Tensor4D, b, s, 1e-6)];
    const composed: Fn = (x, w, c, si) => [composedQkNormRope(x as tf.Tensor2D, w as tf.Tensor1D, c as tf.Tensor4D, si as tf.Tensor4D, b, s, 1e-6)];
    const want = await runOn('cpu', inputs, composed);
    assertClose(want, await runOn('native', inputs, composed), true, 0, `composed native ${b}x${s}x${h}x${d}`);
    assertClose(want, await runOn('native', inputs, fused), true, 0, `fused ${b}x${s}x${h}x${d}`);
  }
  const x = tf.ones([4, 16]);
  const w = tf.ones([8]);
  const c = tf.ones([1, 1, 2, 4]);
  assert.deepEqual(await kernelNames(() => qkNormRope(x as tf.Tensor2D, w as tf.Tensor1D, c as tf.Tensor4D, c as tf.Tensor4D, 2, 2, 1e-6)), [QK_NORM_ROPE_KERNEL]);
  tf.dispose([x, w, c]);
});

// [batch, heads, kvHeads, seq, total slots, headDim, mask rows]
const ATTENTION_CASES: Array<[number, number, number, number, number, number, number]> = [
  [1, 1, 1, 1, 1, 4, 1], [2, 4, 2, 5, 5, 8, 2], [2, 6, 2, 3, 9, 16, 1], [1, 16, 8, 64, 64, 128, 1], [3, 4, 1, 130, 130, 32, 3],
];

void test('attention on native is one kernel with the bits of the composed ops on native, and close to cpu\'s', { skip }, async () => {
  const rng = new Rng(22);
  for (const [b, h, kvh, s, t, d, rows] of ATTENTION_CASES) {
    const inputs = [random(rng, [b, h, s, d]), random(rng, [b, kvh, t, d]), random(rng, [b, kvh, t, d]), maskInput(rows, s, t)];
    const scale = Math.fround(1 / Math.sqrt(d));
    const fused: Fn = (q, k, v, m) => [attention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, m as tf.Tensor4D, scale)];
    const composed: Fn = (q, k, v, m) => [composedAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, m as tf.Tensor4D, scale)];
    const want = await runOn('native', inputs, composed);
    const label = `${b}x${h}/${kvh}x${s}x${t}x${d}`;
    assertClose(want, await runOn('native', inputs, fused), true, 0, `fused ${label}`);
    assertClose(await runOn('cpu', inputs, composed), want, false, 1e-5, `cpu vs native ${label}`);
  }
  const q = tf.ones([1, 2, 3, 4]);
  const k = tf.ones([1, 1, 3, 4]);
  const m = tf.zeros([1, 1, 3, 3]);
  assert.deepEqual(await kernelNames(() => attention(q as tf.Tensor4D, k as tf.Tensor4D, k as tf.Tensor4D, m as tf.Tensor4D, 0.5)), [ATTENTION_KERNEL]);
  tf.dispose([q, k, m]);
});

void test('gradients through the native attention kernels match the composed ops\' autodiff on cpu', { skip }, async () => {
  const rng = new Rng(23);
  const [b, h, kvh, s, d] = [2, 4, 2, 6, 16];
  const [cos, sin] = ropeInputs(b, s, d, 2);
  const inputs = [
    random(rng, [b * s, h * d], 2), random(rng, [d]), random(rng, [b * s, kvh * d], 2), random(rng, [d]),
    random(rng, [b * s, kvh * d]), random(rng, [b * s, h * d]), cos, sin, maskInput(b, s, s),
  ];
  const scale = Math.fround(1 / Math.sqrt(d));
  const grads = (fusedOps: boolean): Fn => (xq, wq, xk, wk, v, probe, c, si, m) => {
    const rope = fusedOps ? qkNormRope : composedQkNormRope;
    const attend = fusedOps ? attention : composedAttention;
    const loss = (a: tf.Tensor, b1: tf.Tensor, c1: tf.Tensor, d1: tf.Tensor, e: tf.Tensor): tf.Scalar => {
      const q = rope(a as tf.Tensor2D, b1 as tf.Tensor1D, c as tf.Tensor4D, si as tf.Tensor4D, b, s, 1e-6);
      const k = rope(c1 as tf.Tensor2D, d1 as tf.Tensor1D, c as tf.Tensor4D, si as tf.Tensor4D, b, s, 1e-6);
      const vv = tf.transpose(tf.reshape(e, [b, s, kvh, d]), [0, 2, 1, 3]) as tf.Tensor4D;
      return tf.sum(tf.mul(attend(q, k, vv, m as tf.Tensor4D, scale), probe as tf.Tensor));
    };
    return tf.grads(loss)([xq, wq, xk, wk, v] as tf.Tensor[]);
  };
  const want = await runOn('cpu', inputs, grads(false));
  assertClose(want, await runOn('native', inputs, grads(true)), false, 2e-4, 'gradients');
});

void test('the attention gradient on native is one kernel, close to the composed ops\' autodiff on native', { skip }, async () => {
  const rng = new Rng(29);
  const [b, h, kvh, s, d] = [3, 8, 2, 37, 32];
  const inputs = [random(rng, [b, h, s, d]), random(rng, [b, kvh, s, d]), random(rng, [b, kvh, s, d]), random(rng, [b * s, h * d]), maskInput(b, s, s)];
  const scale = Math.fround(1 / Math.sqrt(d));
  const grads = (fused: boolean): Fn => (q, k, v, probe, m) => {
    const attend = fused ? attention : composedAttention;
    return tf.grads((a: tf.Tensor, b1: tf.Tensor, c1: tf.Tensor) => tf.sum(tf.mul(attend(a as tf.Tensor4D, b1 as tf.Tensor4D, c1 as tf.Tensor4D, m as tf.Tensor4D, scale), probe as tf.Tensor)))([q, k, v] as tf.Tensor[]);
  };
  assertClose(await runOn('native', inputs, grads(false)), await runOn('native', inputs, grads(true)), false, 1e-5, 'attention gradients');
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const names = await kernelNames(() => tf.addN(grads(true)(...xs).map((g) => tf.sum(g))));
  tf.dispose(xs);
  assert.ok(names.includes(ATTENTION_GRAD_KERNEL), `kernels: ${names.join(', ')}`);
  assert.ok(!names.includes('Softmax'), `the probabilities are recomputed inside the kernel: ${names.join(', ')}`);
});
