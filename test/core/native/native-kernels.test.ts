/**
 * The `native` backend's kernels against the pure-JS `cpu` backend on random shapes: all matMul
 * transpose combinations with broadcast batch dims and size-1 edges, view (offset) inputs, every
 * data-movement, elementwise and reduction kernel it overrides, gradients through them, and
 * run-to-run determinism. Skipped, with the reason printed, only when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { Rng } from '../../../src/core/random.js';
import { frozenLinearOutIn } from '../../../src/core/qwen3/ops.js';

await registerAllGradients();
const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native kernel tests: ${enabled.error}`);

function randomArray(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

type Inputs = Array<{ values: Float32Array; shape: number[] }>;

async function runOn(backend: string, inputs: Inputs, fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Array<{ shape: number[]; data: Float32Array }>> {
  assert.ok(await tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const out = tf.tidy(() => fn(...xs));
  const outs = Array.isArray(out) ? out : [out];
  const result = outs.map((t) => ({ shape: t.shape.slice(), data: t.dataSync() as Float32Array }));
  tf.dispose([...xs, ...outs]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return result;
}

/** Runs fn on cpu and native; exact: bit-identical, else |native − cpu| ≤ tol·(1 + |cpu|). */
async function compare(inputs: Inputs, fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], exact: boolean, tol = 1e-5,
  cpuFn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] = fn): Promise<void> {
  const cpu = await runOn('cpu', inputs, cpuFn);
  const nat = await runOn('native', inputs, fn);
  assert.equal(nat.length, cpu.length);
  cpu.forEach((c, o) => {
    const n = nat[o];
    assert.ok(n !== undefined);
    assert.deepEqual(n.shape, c.shape);
    assert.equal(n.data.length, c.data.length);
    for (let i = 0; i < c.data.length; i++) {
      const a = c.data[i] ?? NaN;
      const b: number = n.data[i] ?? NaN;
      if (exact) {
        if (!Object.is(a, b)) assert.fail(`output ${o} element ${i}: cpu ${a} native ${b} (shape ${c.shape})`);
      } else if (!(Math.abs(a - b) <= tol * (1 + Math.abs(a)))) {
        assert.fail(`output ${o} element ${i}: cpu ${a} native ${b} (shape ${c.shape}, tol ${tol})`);
      }
    }
  });
}

function inputs(rng: Rng, ...shapes: number[][]): Inputs {
  return shapes.map((shape) => ({ shape, values: randomArray(rng, shape.reduce((a, b) => a * b, 1)) }));
}

void test('enableNative reports the backend and its kernels', { skip }, () => {
  assert.ok(enabled.ok);
  if (!enabled.ok) return;
  assert.equal(enabled.value.backendName, 'native');
  assert.match(enabled.value.detail, /OpenBLAS/);
  assert.match(enabled.value.detail, /BatchMatMul/);
});

void test('matMul: every transpose combination, broadcast batch dims, size-1 edges', { skip }, async () => {
  const rng = new Rng(1);
  const cases: Array<[number[], number[]]> = [
    [[5, 7], [7, 3]], [[1, 1], [1, 1]], [[1, 9], [9, 1]], [[6, 1], [1, 4]],
    [[3, 5, 7], [3, 7, 2]], [[1, 4, 6], [3, 6, 5]], [[4, 6], [2, 3, 6, 5]], [[2, 3, 17, 33], [33, 9]],
    [[1, 64, 130], [130, 70]],
  ];
  for (const [aShape, bShape] of cases) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const swap = (s: number[], t: boolean): number[] => {
          if (!t) return s;
          const r = s.slice();
          const n = r.length;
          [r[n - 2], r[n - 1]] = [r[n - 1] ?? 1, r[n - 2] ?? 1];
          return r;
        };
        await compare(inputs(rng, swap(aShape, transposeA), swap(bShape, transposeB)),
          (a, b) => tf.matMul(a as tf.Tensor, b as tf.Tensor, transposeA, transposeB), false, 1e-5);
      }
    }
  }
});

void test('matMul broadcasts batch dims numpy-style where cpu cannot (checked against explicit broadcastTo)', { skip }, async () => {
  // tfjs's cpu kernel indexes batches modulo each side's batch count, which is only right when one
  // side has batch 1 or both are equal; [2,1]×[3] must give [2,3] batches.
  const rng = new Rng(11);
  await compare(inputs(rng, [2, 1, 4, 6], [3, 6, 5]), (a, b) => tf.matMul(a as tf.Tensor, b as tf.Tensor), false, 1e-5,
    (a, b) => tf.matMul(tf.broadcastTo(a as tf.Tensor, [2, 3, 4, 6]), tf.broadcastTo(b as tf.Tensor, [2, 3, 6, 5])));
  await compare(inputs(rng, [2, 1, 6, 4], [1, 3, 5, 6]), (a, b) => tf.matMul(a as tf.Tensor, b as tf.Tensor, true, true), false, 1e-5,
    (a, b) => tf.matMul(tf.broadcastTo(a as tf.Tensor, [2, 3, 6, 4]), tf.broadcastTo(b as tf.Tensor, [2, 3, 5, 6]), true, true));
});

void test('matMul on views: contiguous slices share storage at an offset', { skip }, async () => {
  const rng = new Rng(2);
  await compare(inputs(rng, [6, 8, 16], [16, 5]), (a, b) => tf.matMul(tf.slice(a as tf.Tensor, [2, 0, 0], [3, 8, 16]), b as tf.Tensor), false);
  await compare(inputs(rng, [10, 12]), (a) => tf.matMul(tf.slice(a as tf.Tensor, [4, 0], [3, 12]), tf.slice(a as tf.Tensor, [1, 0], [5, 12]), false, true), false);
});

void test('fused matMul with bias and activation', { skip }, async () => {
  const rng = new Rng(3);
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu', 'relu6', 'leakyrelu'] as const) {
    await compare(inputs(rng, [2, 5, 7], [7, 4], [4]),
      (a, b, bias) => tf.fused.matMul({ a: a as tf.Tensor3D, b: b as tf.Tensor3D, bias, activation, leakyreluAlpha: 0.3 }), false);
  }
  await compare(inputs(rng, [5, 7], [7, 4], [4], [4]),
    (a, b, bias, alpha) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'prelu', preluActivationWeights: alpha }), false);
});

void test('data movement is bit-identical: transpose, slice, split, concat, pad, tile', { skip }, async () => {
  const rng = new Rng(4);
  for (const perm of [[0, 2, 1, 3], [3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 3, 2], [2, 3, 0, 1]]) {
    await compare(inputs(rng, [3, 5, 1, 37]), (x) => tf.transpose(x as tf.Tensor, perm), true);
    await compare(inputs(rng, [2, 33, 65, 3]), (x) => tf.transpose(x as tf.Tensor, perm), true);
  }
  await compare(inputs(rng, [67, 129]), (x) => tf.transpose(x as tf.Tensor), true);
  await compare(inputs(rng, [4, 6, 10]), (x) => [
    tf.slice(x as tf.Tensor, [1, 2, 3], [2, 3, 4]), tf.slice(x as tf.Tensor, [0, 0, 5], [-1, -1, 5]),
    tf.slice(x as tf.Tensor, [3, 0, 0], [1, 6, 10]), tf.slice(x as tf.Tensor, [0, 5, 9], [4, 1, 1]),
  ], true);
  await compare(inputs(rng, [3, 4, 10]), (x) => tf.split(x as tf.Tensor, [3, 7], 2), true);
  await compare(inputs(rng, [6, 4, 2]), (x) => tf.split(x as tf.Tensor, 3, 0), true);
  await compare(inputs(rng, [2, 3, 4], [2, 5, 4], [2, 1, 4]), (a, b, c) => tf.concat([a as tf.Tensor, b as tf.Tensor, c as tf.Tensor], 1), true);
  await compare(inputs(rng, [2, 3, 4], [2, 3, 6]), (a, b) => tf.concat([a as tf.Tensor, b as tf.Tensor], -1), true);
  await compare(inputs(rng, [1, 3], [0, 3], [2, 3]), (a, b, c) => tf.concat([a as tf.Tensor, b as tf.Tensor, c as tf.Tensor], 0), true);
  await compare(inputs(rng, [2, 3, 4]), (x) => tf.pad(x as tf.Tensor, [[1, 0], [0, 2], [3, 1]], 0), true);
  await compare(inputs(rng, [2, 3]), (x) => tf.pad(x as tf.Tensor, [[2, 2], [1, 0]], -1.5), true);
  await compare(inputs(rng, [2, 1, 3]), (x) => tf.tile(x as tf.Tensor, [3, 4, 2]), true);
  await compare(inputs(rng, [5]), (x) => tf.tile(x as tf.Tensor, [1]), true);
  const idx = [3, 0, 3, 9, 1];
  await compare(inputs(rng, [10, 4]), (x) => tf.gather(x as tf.Tensor, tf.tensor1d(idx, 'int32'), 0), true);
  await compare(inputs(rng, [3, 10, 4]), (x) => tf.gather(x as tf.Tensor, tf.tensor2d([idx, idx.slice().reverse()], [2, 5], 'int32'), 1), true);
  await compare(inputs(rng, [4, 10]), (x) => tf.gather(x as tf.Tensor, tf.tensor1d(idx, 'int32'), -1), true);
  assert.ok(await tf.setBackend('native'));
  assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], 'int32')), /GatherV2: the index value 3 is not in \[0, 2\]/);
});

void test('broadcasting elementwise ops are bit-identical', { skip }, async () => {
  const rng = new Rng(5);
  const ops: Array<(a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = [
    tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference,
  ];
  const pairs: Array<[number[], number[]]> = [
    [[4, 5], [4, 5]], [[4, 5], [5]], [[4, 1], [1, 5]], [[2, 3, 4, 5], [3, 1, 5]], [[7], []], [[], [3, 2]],
    [[2, 1, 3, 1], [1, 4, 1, 6]], [[1], [1]],
  ];
  for (const op of ops) {
    for (const [sa, sb] of pairs) await compare(inputs(rng, sa, sb), (a, b) => op(a as tf.Tensor, b as tf.Tensor), true);
  }
  // Special values: NaN propagation of max/min and signed zeros, division by zero.
  const special = { shape: [6], values: Float32Array.from([NaN, 0, -0, 1, -1, Infinity]) };
  const other = { shape: [6], values: Float32Array.from([1, -0, 0, NaN, 0, -Infinity]) };
  for (const op of ops) await compare([special, other], (a, b) => op(a as tf.Tensor, b as tf.Tensor), true);
});

void test('unary ops are bit-identical, special values included', { skip }, async () => {
  const rng = new Rng(9);
  const ops: Array<(x: tf.Tensor) => tf.Tensor> = [tf.exp, tf.sigmoid, tf.neg, tf.square, tf.rsqrt, tf.sqrt, tf.log];
  const special = { shape: [9], values: Float32Array.from([NaN, 0, -0, 1, -1, Infinity, -Infinity, 1e-30, 88.7]) };
  for (const op of ops) {
    await compare(inputs(rng, [3, 1000]), (x) => op(tf.mul(x as tf.Tensor, 4)), true);
    await compare(inputs(rng, [3, 1000]), (x) => op(tf.abs(x as tf.Tensor)), true);
    await compare([special], (x) => op(x as tf.Tensor), true);
  }
});

/**
 * Values over exp's whole domain and the edges of float's range (overflow near 88.7, subnormal results below
 * -87.3, zero below -103.9, double underflow below -745): the native exp, sigmoid and softmax take a vector path
 * whose lanes near a float tie or outside those ranges are recomputed one by one (native/blas/src/exp-vec.h).
 */
function wideExpArguments(rng: Rng, n: number): Float32Array {
  const edges = [88.72, 88.73, 89, -87.3, -88, -103.9, -104, -150, -700, -708, -709, -745.1, -745.2, -746, -800, 700, 709, 746, 1e-45, -1e-45];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const scale = [1600, 240, 24][i % 3] ?? 1;
    out[i] = i < edges.length ? (edges[i] ?? 0) : (rng.uniform() - 0.5) * scale;
  }
  return out;
}

void test('exp and sigmoid over the whole range are bit-identical (the vector path and its recomputed lanes)', { skip }, async () => {
  const rng = new Rng(21);
  const wide = { shape: [60000], values: wideExpArguments(rng, 60000) };
  await compare([wide], (x) => [tf.exp(x as tf.Tensor), tf.sigmoid(x as tf.Tensor)], true);
  const rows = { shape: [300, 200], values: wideExpArguments(rng, 60000).map((v, i) => (i % 7 === 3 ? -Infinity : v / 8)) };
  await compare([rows], (x) => tf.softmax(x as tf.Tensor), true);
});

void test('reductions and softmax are bit-identical', { skip }, async () => {
  const rng = new Rng(6);
  const shape = [3, 4, 5, 6];
  const axesList: Array<number | number[]> = [-1, 0, 1, 2, [0, 2], [1, 3], [3, 1], [0, 1, 2, 3], [0, 1]];
  for (const axis of axesList) {
    for (const keepDims of [false, true]) {
      await compare(inputs(rng, shape), (x) => [
        tf.sum(x as tf.Tensor, axis, keepDims), tf.mean(x as tf.Tensor, axis, keepDims), tf.max(x as tf.Tensor, axis, keepDims),
      ], true);
    }
  }
  await compare(inputs(rng, [1]), (x) => [tf.sum(x as tf.Tensor), tf.max(x as tf.Tensor), tf.mean(x as tf.Tensor)], true);
  await compare(inputs(rng, [2, 3, 7, 9]), (x) => tf.softmax(tf.mul(x as tf.Tensor, 8)), true);
  await compare(inputs(rng, [5, 1]), (x) => tf.softmax(x as tf.Tensor), true);
  const masked = { shape: [2, 4], values: Float32Array.from([1, -1e9, -1e9, -1e9, 3, 2, -Infinity, 0]) };
  await compare([masked], (x) => tf.softmax(x as tf.Tensor), true);
});

void test('gradients through native kernels match cpu', { skip }, async () => {
  const rng = new Rng(7);
  const f = (x: tf.Tensor, w: tf.Tensor, g: tf.Tensor): tf.Tensor => {
    const h = tf.matMul(tf.reshape(x, [6, 8]), w, false, true);
    const r = tf.reshape(h, [2, 3, 2, 5]);
    const t = tf.transpose(r, [0, 2, 1, 3]);
    const [p, q] = tf.split(t, [2, 3], 3) as [tf.Tensor, tf.Tensor];
    const c = tf.concat([tf.neg(q as tf.Tensor), p as tf.Tensor], 3);
    const s = tf.softmax(tf.mul(c, g), -1);
    return tf.sum(tf.mul(s, tf.mean(tf.square(t), -1, true)));
  };
  await compare(inputs(rng, [2, 3, 8], [10, 8], [5]), (x, w, g) => {
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c))([x as tf.Tensor, w as tf.Tensor, g as tf.Tensor]);
    return grads;
  }, false, 1e-5);
});

void test("the core's frozen linear takes its BLAS path on native: same value and input gradient as cpu", { skip }, async () => {
  const rng = new Rng(10);
  await compare(inputs(rng, [6, 16], [24, 16], [6, 24]), (x, w, probe) => {
    const f = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(frozenLinearOutIn(xx as tf.Tensor2D, w as tf.Tensor2D), probe as tf.Tensor));
    const { value, grad } = tf.valueAndGrad(f)(x as tf.Tensor);
    return [frozenLinearOutIn(x as tf.Tensor2D, w as tf.Tensor2D), value, grad];
  }, false, 1e-5);
});

void test('results are identical run to run', { skip }, async () => {
  const rng = new Rng(8);
  const ins = inputs(rng, [4, 128, 256], [512, 256]);
  const fn = (x: tf.Tensor, w: tf.Tensor): tf.Tensor => tf.softmax(tf.matMul(x as tf.Tensor, w as tf.Tensor, false, true));
  const first = await runOn('native', ins, fn);
  for (let i = 0; i < 3; i++) {
    const again = await runOn('native', ins, fn);
    assert.deepEqual(Buffer.from((again[0]?.data ?? new Float32Array()).buffer), Buffer.from((first[0]?.data ?? new Float32Array()).buffer));
  }
});
