/**
 * The native-only fused kernels (RMSNorm, SwiGLU) reached through the model's ops: on `native` they must run as
 * one kernel each, give the same bits as the composed ops on the pure-JS `cpu` backend, and have the same
 * gradients (to float tolerance: backward is the analytic formula, not the composed chain's autodiff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { RMS_NORM_KERNEL, SWIGLU_KERNEL } from '../../../src/core/native/kernels/fused.js';
import { Rng } from '../../../src/core/random.js';
import { rmsNorm, swiglu } from '../../../src/core/qwen3/ops.js';
import { loadAddon } from '../../../src/core/native/load-addon.js';

await registerAllGradients();
const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native fused-kernel tests: ${enabled.error}`);

type Fn = (...xs: tf.Tensor[]) => tf.Tensor[];

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

async function runOn(backend: string, inputs: Array<{ values: Float32Array; shape: number[] }>, fn: Fn): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const outs = tf.tidy(() => fn(...xs));
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...xs, ...outs]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return data;
}

/** exact: bit-identical, else |native − cpu| ≤ tol·(1 + |cpu|). */
async function compare(inputs: Array<{ values: Float32Array; shape: number[] }>, fn: Fn, exact: boolean, tol = 1e-5): Promise<void> {
  const cpu = await runOn('cpu', inputs, fn);
  const nat = await runOn('native', inputs, fn);
  assert.equal(nat.length, cpu.length);
  cpu.forEach((c, o) => {
    const n = nat[o] as Float32Array;
    assert.equal(n.length, c.length);
    for (let i = 0; i < c.length; i++) {
      const a = c[i] as number;
      const b = n[i] as number;
      if (exact ? !Object.is(a, b) : !(Math.abs(a - b) <= tol * (1 + Math.abs(a)))) {
        assert.fail(`output ${o} element ${i}: cpu ${a} native ${b}${exact ? '' : ` (tol ${tol})`}`);
      }
    }
  });
}

async function kernelNames(fn: () => tf.Tensor): Promise<string[]> {
  assert.ok(await tf.setBackend('native'));
  const info = await tf.profile(() => fn());
  // customGrad's own record has no kernel name
  return info.kernels.map((k) => k.name).filter((name) => name !== '');
}

const SHAPES: number[][] = [[1, 1], [3, 7], [2, 5, 4, 16], [64, 1024], [1, 64, 16, 128]];

void test('rmsNorm on native is one fused kernel with the composed ops\' bits', { skip }, async () => {
  const rng = new Rng(11);
  for (const shape of SHAPES) {
    const n = shape[shape.length - 1] as number;
    const size = shape.reduce((a, b) => a * b, 1);
    const inputs = [{ values: randomArray(rng, size, 3), shape }, { values: randomArray(rng, n), shape: [n] }];
    for (const eps of [1e-6, 0.5]) {
      await compare(inputs, (x, w) => [rmsNorm(x as tf.Tensor, w as tf.Tensor1D, eps)], true);
    }
  }
  const x = tf.ones([2, 8]);
  const w = tf.ones([8]);
  assert.deepEqual(await kernelNames(() => rmsNorm(x, w as tf.Tensor1D, 1e-6)), [RMS_NORM_KERNEL]);
  tf.dispose([x, w]);
});

void test('rmsNorm gradients on native match the composed ops\' autodiff on cpu (x and weight)', { skip }, async () => {
  const rng = new Rng(12);
  for (const shape of [[3, 7], [2, 5, 4, 16], [16, 1024]]) {
    const n = shape[shape.length - 1] as number;
    const size = shape.reduce((a, b) => a * b, 1);
    const inputs = [
      { values: randomArray(rng, size, 2), shape }, { values: randomArray(rng, n), shape: [n] }, { values: randomArray(rng, size), shape },
    ];
    await compare(inputs, (x, w, dy) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rmsNorm(a, b as tf.Tensor1D, 1e-6), dy as tf.Tensor)))([x as tf.Tensor, w as tf.Tensor]), false, 2e-4);
  }
});

void test('the swiglu gradient kernel computes its double formula with the scalar bits over a wide range of gates', { skip }, () => {
  const loaded = loadAddon();
  assert.ok(loaded.ok && loaded.value.addon.swigluGrad !== undefined);
  if (!loaded.ok || loaded.value.addon.swigluGrad === undefined) return;
  const rng = new Rng(31);
  const n = 60000;
  // gates near -1.28, where 1 + v·(1 − s) cancels, and far into the tails; the kernel's vector lanes are checked
  // against the formula evaluated in double here
  const gate = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1.28 + (rng.uniform() - 0.5) * 0.2 : (rng.uniform() - 0.5) * (i % 3 === 1 ? 60 : 1600)));
  const up = randomArray(rng, n);
  const dy = randomArray(rng, n);
  const dGate = new Float32Array(n);
  const dUp = new Float32Array(n);
  loaded.value.addon.swigluGrad(dy, gate, up, dGate, dUp);
  let mismatches = 0;
  for (let i = 0; i < n; i++) {
    const v = gate[i] ?? 0;
    const d = dy[i] ?? 0;
    const s = 1 / (1 + Math.exp(-v));
    if (dGate[i] !== Math.fround(d * (up[i] ?? 0) * s * (1 + v * (1 - s))) || dUp[i] !== Math.fround(d * v * s)) mismatches++;
  }
  assert.equal(mismatches, 0);
});

void test('swiglu on native is one fused kernel with the composed ops\' bits, and the same gradients', { skip }, async () => {
  const rng = new Rng(13);
  for (const shape of [[1], [5, 3], [64, 3072], [2, 3, 1000]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const inputs = [{ values: randomArray(rng, size, 4), shape }, { values: randomArray(rng, size), shape }];
    await compare(inputs, (g, u) => [swiglu(g as tf.Tensor, u as tf.Tensor)], true);
    const withDy = [...inputs, { values: randomArray(rng, size), shape }];
    await compare(withDy, (g, u, dy) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(swiglu(a, b), dy as tf.Tensor)))([g as tf.Tensor, u as tf.Tensor]), false, 1e-5);
  }
  // gates far into the sigmoid's tails: the kernel's vector exp recomputes lanes it cannot round like the scalar
  // path (native/blas/src/exp-vec.h)
  const wide = [{ values: randomArray(rng, 60000, 150), shape: [60000] }, { values: randomArray(rng, 60000), shape: [60000] }];
  await compare(wide, (a, b) => [swiglu(a as tf.Tensor, b as tf.Tensor)], true);
  const g = tf.ones([4, 6]);
  const u = tf.ones([4, 6]);
  assert.deepEqual(await kernelNames(() => swiglu(g, u)), [SWIGLU_KERNEL]);
  // broadcasting is left to the composed ops
  const row = tf.ones([6]);
  assert.ok(!(await kernelNames(() => swiglu(g, row))).includes(SWIGLU_KERNEL));
  tf.dispose([g, u, row]);
});
