/**
 * The packed-weight linear kernel (native/blas/src/packed-linear.cc) reached through the model's frozenLinearOutIn:
 * it must run as that kernel on `native`, agree with a float64 x·Wᵀ on ragged shapes (rows not a multiple of the
 * 6-row micro-tile, outputs not a multiple of the 16-wide panel, inputs past one 512-wide k block and not a
 * multiple of 8), and give the same bytes whether the weight's pack was cached or made afresh, and whichever batch
 * a row arrives in (a row's result does not depend on the other rows). Thread counts: native-threads.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { PACKED_LINEAR_KERNEL } from '../../../src/core/native/kernels/packed-linear.js';
import { Rng } from '../../../src/core/random.js';
import { frozenLinearOutIn } from '../../../src/core/qwen3/ops.js';

const enabled = await enableNative(tf);
const packedKernel = enabled.ok && tf.getKernel(PACKED_LINEAR_KERNEL, 'native') !== undefined;
const skip = !enabled.ok ? `native addon unavailable: ${enabled.error}` : packedKernel ? false : 'the addon was built without AVX2/FMA: no packed kernel';
if (skip !== false) console.log(`# SKIP native packed-linear tests: ${skip}`);

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

function reference(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let kk = 0; kk < k; kk++) s += (x[i * k + kk] as number) * (w[j * k + kk] as number);
      y[i * n + j] = s;
    }
  }
  return y;
}

void test('frozenLinearOutIn on native is the packed kernel, and matches float64 x·Wᵀ on ragged shapes', { skip }, async () => {
  assert.ok(await tf.setBackend('native'));
  const rng = new Rng(11);
  for (const [m, n, k] of [[1, 1, 1], [7, 17, 9], [67, 1283, 1100], [200, 48, 513], [13, 3, 1025]] as const) {
    const xv = randomArray(rng, m * k);
    const wv = randomArray(rng, n * k, 0.05);
    const x = tf.tensor2d(xv, [m, k]);
    const w = tf.tensor2d(wv, [n, k]);
    const kernels: string[] = [];
    const profile = await tf.profile(() => frozenLinearOutIn(x, w));
    for (const kk of profile.kernels) kernels.push(kk.name);
    // (customGrad's own step shows as a kernel without a name)
    assert.deepEqual(kernels.filter((name) => name !== ''), [PACKED_LINEAR_KERNEL], `${m}×${n}×${k}: ran ${kernels.join(', ')}`);
    const y = tf.tidy(() => frozenLinearOutIn(x, w));
    const got = y.dataSync() as Float32Array;
    const want = reference(xv, wv, m, n, k);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)) / (1 + Math.abs(want[i] as number)));
    assert.ok(worst < 1e-5, `${m}×${n}×${k}: worst relative error ${worst}`);
    tf.dispose([x, w, y]);
  }
});

void test('the bytes do not depend on a cached pack or on the other rows of the batch', { skip }, async () => {
  assert.ok(await tf.setBackend('native'));
  const rng = new Rng(12);
  const [m, n, k] = [300, 1040, 1030];
  const xv = randomArray(rng, m * k);
  const wv = randomArray(rng, n * k, 0.05);
  const x = tf.tensor2d(xv, [m, k]);
  const w = tf.tensor2d(wv, [n, k]);
  const first = tf.tidy(() => frozenLinearOutIn(x, w)).dataSync() as Float32Array;
  const cached = tf.tidy(() => frozenLinearOutIn(x, w)).dataSync() as Float32Array;
  // the same values in new storage: a fresh pack
  const copy = tf.tensor2d(wv.slice(), [n, k]);
  const fresh = tf.tidy(() => frozenLinearOutIn(x, copy)).dataSync() as Float32Array;
  assert.deepEqual(Buffer.from(cached.buffer), Buffer.from(first.buffer), 'a cached pack changed the bytes');
  assert.deepEqual(Buffer.from(fresh.buffer), Buffer.from(first.buffer), 'a fresh pack of the same values changed the bytes');
  // rows 37..137 alone (a row block that starts inside a 6-row micro-tile and crosses a 192-row block) and one row
  for (const [r0, rows] of [[37, 100], [299, 1], [190, 5]] as const) {
    const part = tf.tidy(() => frozenLinearOutIn(tf.slice(x, [r0, 0], [rows, k]), w)).dataSync() as Float32Array;
    assert.deepEqual(Buffer.from(part.buffer), Buffer.from(first.slice(r0 * n, (r0 + rows) * n).buffer), `rows ${r0}..${r0 + rows} alone differ`);
  }
  tf.dispose([x, w, copy]);
});

void test('mismatched operands are refused with one line naming both shapes', { skip }, async () => {
  assert.ok(await tf.setBackend('native'));
  const x = tf.zeros([3, 5]) as tf.Tensor2D;
  const w = tf.zeros([4, 6]) as tf.Tensor2D;
  assert.throws(() => tf.engine().runKernel(PACKED_LINEAR_KERNEL, { x, weight: w }, {}), /x \[3, 5\] · weight \[4, 6\]ᵀ do not match/);
  tf.dispose([x, w]);
});
