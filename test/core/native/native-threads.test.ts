/**
 * Thread count and results: the same inputs give byte-identical outputs with 1, 2 and 3 threads, for
 * GEMM (tiles of C fixed by the shape, each one single-threaded OpenBLAS call) and for the threaded
 * elementwise kernels (each element computed by one thread with the serial arithmetic), and for the packed-weight
 * linear kernel (threads split its output panels). The shapes
 * include ragged edges, batches and both transposes, where OpenBLAS's own threading changed bits on
 * AVX-512 machines. Each count runs in its own process because the count is fixed when the backend
 * is enabled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { enableNative } from '../../../src/core/native/index.js';

const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native thread tests: ${enabled.error}`);

const nativeIndex = fileURLToPath(new URL('../../../src/core/native/index.js', import.meta.url));
const qwenOps = fileURLToPath(new URL('../../../src/core/qwen3/ops.js', import.meta.url));
const probe = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createHash } from 'node:crypto';
const { enableNative } = await import(${JSON.stringify(nativeIndex)});
const { attention, frozenLinearOutIn, qkNormRope } = await import(${JSON.stringify(qwenOps)});
const r = await enableNative(tf);
if (!r.ok) throw new Error(r.error);
await tf.setBackend('native');
const x = tf.randomNormal([8, 256, 512], 0, 1, 'float32', 1);
const w = tf.randomNormal([1536, 512], 0, 0.05, 'float32', 2);
const h = tf.matMul(tf.reshape(x, [2048, 512]), w, false, true);
const outs = [h, tf.sigmoid(h), tf.mul(h, tf.sigmoid(h)), tf.softmax(tf.reshape(h, [2048, 1536])),
  tf.add(h, tf.reshape(tf.range(0, 1536, 1, 'float32'), [1, 1536])), tf.matMul(x, x, false, true),
  tf.matMul(tf.slice(tf.reshape(x, [2048, 512]), [0, 0], [67, 512]), tf.slice(w, [0, 0], [1283, 512]), false, true),
  tf.matMul(tf.slice(x, [0, 0, 0], [3, 101, 512]), tf.slice(x, [0, 0, 0], [3, 101, 300]), true, false),
  tf.matMul(tf.slice(w, [0, 0], [700, 333]), tf.slice(tf.reshape(x, [1024, 1024]), [0, 0], [333, 1001]))];
// attention kernels at 2 x 96 tokens, 16 query / 8 KV heads of 64 (units and rows split across threads)
const rot = tf.randomUniform([1, 1, 96, 32], -1, 1, 'float32', 3);
const tokens = tf.reshape(h, [2048, 1536]);
const q = qkNormRope(tf.slice(tokens, [0, 0], [192, 1024]), tf.ones([64]), rot, rot, 2, 96, 1e-6);
const k = qkNormRope(tf.slice(tokens, [0, 1024], [192, 512]), tf.ones([64]), rot, rot, 2, 96, 1e-6);
const mask = tf.reshape(tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([96, 96]), 0, -1), tf.eye(96)), -1e9), [1, 1, 96, 96]);
outs.push(q, k, attention(q, k, k, mask, 0.125));
// the packed-weight linear kernel: its panels split across threads, ragged rows, outputs and inputs
const wide = tf.randomNormal([1283, 1100], 0, 0.05, 'float32', 4);
outs.push(frozenLinearOutIn(tf.reshape(x, [2048, 512]), w),
  frozenLinearOutIn(tf.slice(tf.reshape(x, [1024, 1024]), [0, 0], [203, 1100 - 76]), tf.slice(wide, [0, 0], [1283, 1024])));
const hash = createHash('sha256');
for (const o of outs) hash.update(Buffer.from(o.dataSync().buffer));
console.log(hash.digest('hex'));
`;

function digest(threads: number): string {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
    env: { ...process.env, WSFLOW_NATIVE_THREADS: String(threads) },
    encoding: 'utf8',
  });
  return out.trim().split('\n').pop() ?? '';
}

void test('1, 2 and 3 threads give byte-identical results, run after run', { skip }, () => {
  const one = digest(1);
  const two = digest(2);
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.equal(two, one, 'results depend on the thread count (1 vs 2)');
  assert.equal(digest(3), one, 'results depend on the thread count (1 vs 3)');
  assert.equal(digest(2), two, 'results differ run to run');
});
