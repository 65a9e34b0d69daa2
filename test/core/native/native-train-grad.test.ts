/**
 * Training's native backward kernels (native/blas/src/grad.cc): the fused cross-entropy (loss and gradient in one
 * sweep of the vocabulary) and the softmax gradient must give what the composed ops give on the pure-JS `cpu`
 * backend, to float tolerance, and the same bytes for 1 and 2 threads (RMSNorm's and SwiGLU's backward included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { CROSS_ENTROPY_KERNEL } from '../../../src/core/native/kernels/cross-entropy.js';
import { SOFTMAX_GRAD_KERNEL } from '../../../src/core/native/kernels/grad.js';
import { maskedCrossEntropy } from '../../../src/core/training/masked-cross-entropy.js';
import { Rng } from '../../../src/core/random.js';

await registerAllGradients();
const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native training-kernel tests: ${enabled.error}`);

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

function assertClose(label: string, cpu: Float32Array, nat: Float32Array, tol: number): void {
  assert.equal(nat.length, cpu.length, `${label}: lengths differ`);
  for (let i = 0; i < cpu.length; i++) {
    const a = cpu[i] as number;
    const b = nat[i] as number;
    if (!(Math.abs(a - b) <= tol * (1 + Math.abs(a)))) assert.fail(`${label} element ${i}: cpu ${a} native ${b} (tol ${tol})`);
  }
}

async function kernelNames(fn: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(fn);
  tf.dispose(info.result as tf.Tensor);
  return info.kernels.map((k) => k.name);
}

const R = 13;
const E = 24;
const V = 1000;
const rng = new Rng(21);
const hiddenValues = randomArray(rng, R * E);
const weightValues = randomArray(rng, V * E, 0.3);
// rows repeat (10 twice) to exercise the scatter's summing; targets fall in first, middle and last chunks
const sel = {
  rows: Int32Array.from([0, 2, 3, 5, 10, 10, 12]),
  targets: Int32Array.from([0, 999, 250, 256, 511, 3, 700]),
  weights: Float32Array.from([0.5, 1, 0.25, 2, 1, 1, 0.125]),
};

function lossAndGrad(backend: string, chunk: number | undefined): { loss: number; grad: Float32Array; evalLoss: number } {
  assert.ok(tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const h = tf.tensor2d(hiddenValues, [R, E]);
  const w = tf.tensor2d(weightValues, [V, E]);
  // dy = 3 checks the backward scales the saved gradient
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => tf.mul(maskedCrossEntropy(x as tf.Tensor2D, w, sel, chunk), 3))(h);
  const evalLoss = tf.tidy(() => maskedCrossEntropy(h, w, sel, chunk));
  const out = { loss: (value.dataSync()[0] as number) / 3, grad: grad.dataSync() as Float32Array, evalLoss: evalLoss.dataSync()[0] as number };
  tf.dispose([h, w, value, grad, evalLoss]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return out;
}

void test('fused cross-entropy on native: the composed loss and gradient (dy scaled), one kernel, every chunking', { skip }, async () => {
  for (const chunk of [256, 300, 1000, undefined]) {
    const cpu = lossAndGrad('cpu', chunk);
    const nat = lossAndGrad('native', chunk);
    assert.ok(Math.abs(cpu.loss - nat.loss) <= 1e-5 * Math.abs(cpu.loss), `chunk ${chunk}: loss cpu ${cpu.loss} native ${nat.loss}`);
    assert.ok(Math.abs(cpu.evalLoss - nat.evalLoss) <= 1e-5 * Math.abs(cpu.loss), `chunk ${chunk}: eval loss cpu ${cpu.evalLoss} native ${nat.evalLoss}`);
    assert.ok(Math.abs(nat.evalLoss - nat.loss) <= 1e-6 * Math.abs(nat.loss), `chunk ${chunk}: the no-gradient path gives another loss`);
    assertClose(`chunk ${chunk} gradient`, cpu.grad, nat.grad, 2e-5);
    // rows 1, 4 (never selected) get exactly zero
    for (const r of [1, 4]) assert.ok(nat.grad.subarray(r * E, (r + 1) * E).every((x) => x === 0));
  }
  assert.ok(await tf.setBackend('native'));
  const h = tf.tensor2d(hiddenValues, [R, E]);
  const w = tf.tensor2d(weightValues, [V, E]);
  const names = await kernelNames(() => tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, w, sel, 256))(h));
  assert.equal(names.filter((n) => n === CROSS_ENTROPY_KERNEL).length, 1, `kernels: ${names.join(', ')}`);
  assert.ok(!names.includes('BatchMatMul'), 'the composed path ran as well');
  tf.dispose([h, w]);
});

void test('softmax gradient on native is one kernel and matches cpu (last axis); other axes keep tfjs\'s gradient', { skip }, async () => {
  const r2 = new Rng(22);
  for (const shape of [[3, 7], [2, 4, 5, 33], [1, 1]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(r2, size, 3);
    const dy = randomArray(r2, size);
    const run = (backend: string): Float32Array => {
      assert.ok(tf.setBackend(backend));
      const xt = tf.tensor(x, shape);
      const dyt = tf.tensor(dy, shape);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a, -1), dyt)))(xt);
      const data = g.dataSync() as Float32Array;
      tf.dispose([xt, dyt, g]);
      return data;
    };
    assertClose(`softmax grad [${shape.join(', ')}]`, run('cpu'), run('native'), 1e-5);
  }
  assert.ok(await tf.setBackend('native'));
  const xt = tf.randomNormal([4, 6]);
  const names = await kernelNames(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), xt)))(xt));
  assert.ok(names.includes(SOFTMAX_GRAD_KERNEL), `kernels: ${names.join(', ')}`);
  xt.dispose();
});

const here = fileURLToPath(new URL('.', import.meta.url));
const probe = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createHash } from 'node:crypto';
const src = ${JSON.stringify(fileURLToPath(new URL('../../../src/core/', import.meta.url)))};
const { enableNative } = await import(src + 'native/index.js');
const { registerAllGradients } = await import(src + 'native/register-gradients.js');
const { maskedCrossEntropy } = await import(src + 'training/masked-cross-entropy.js');
const { rmsNorm, swiglu } = await import(src + 'qwen3/ops.js');
await registerAllGradients();
const r = await enableNative(tf);
if (!r.ok) throw new Error(r.error);
await tf.setBackend('native');
const x = tf.randomNormal([700, 1024], 0, 1, 'float32', 1);
const nw = tf.randomNormal([1024], 1, 0.1, 'float32', 2);
const g = tf.randomNormal([700, 3072], 0, 1, 'float32', 3);
const u = tf.randomNormal([700, 3072], 0, 1, 'float32', 4);
const s = tf.randomNormal([4, 16, 100, 100], 0, 2, 'float32', 5);
const w = tf.randomNormal([5000, 1024], 0, 0.05, 'float32', 6);
const rows = Int32Array.from({ length: 600 }, (_, i) => i + 50);
const sel = { rows, targets: Int32Array.from(rows, (i) => (i * 37) % 5000), weights: new Float32Array(600).fill(1 / 600) };
const outs = [
  ...tf.grads((a, b) => tf.sum(tf.mul(rmsNorm(a, b, 1e-6), x)))([x, nw]),
  ...tf.grads((a, b) => tf.sum(tf.mul(swiglu(a, b), u)))([g, u]),
  tf.grad((a) => tf.sum(tf.mul(tf.softmax(a, -1), s)))(s),
  tf.grad((a) => maskedCrossEntropy(a, w, sel, 1024))(x),
];
const hash = createHash('sha256');
for (const o of outs) hash.update(Buffer.from(o.dataSync().buffer));
console.log(hash.digest('hex'));
`;

function digest(threads: number): string {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: here,
    env: { ...process.env, WSFLOW_NATIVE_THREADS: String(threads) },
    encoding: 'utf8',
  });
  return out.trim().split('\n').pop() ?? '';
}

void test('the backward kernels give byte-identical results with 1 and 2 threads', { skip }, () => {
  const one = digest(1);
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.equal(digest(2), one, 'training kernels depend on the thread count (1 vs 2)');
});
