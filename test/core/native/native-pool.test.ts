/**
 * The addon's persistent helper pool (native/blas/src/parallel.cc): threaded kernels called from several
 * JavaScript threads at once (worker_threads; one job runs on the pool, the others serially) and thousands of
 * jobs in a row (helpers parked and woken each time) give the bytes of a lone caller. Real worker threads,
 * the real addon; the inputs are built from a fixed formula so every thread computes the same thing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { loadAddon, type NativeAddon } from '../../../src/core/native/load-addon.js';

const load = loadAddon();
const skip = load.ok ? false : `native addon unavailable: ${load.error}`;
if (!load.ok) console.log(`# SKIP native pool tests: ${load.error}`);

const loadAddonUrl = new URL('../../../src/core/native/load-addon.js', import.meta.url).href;

/** GEMMs of the model's 64-token shapes (transposed weight, several tiles) and a threaded unary op, hashed. */
function digestOf(addon: NativeAddon, rounds: number): string {
  const fill = (n: number, seed: number): Float32Array => {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37 + seed) * 0.5;
    return v;
  };
  const hash = createHash('sha256');
  const zero = new Float64Array(1);
  for (let r = 0; r < rounds; r++) {
    for (const [m, k, n] of [[64, 1024, 2048], [64, 3072, 1024], [67, 333, 1283]] as const) {
      const out = new Float32Array(m * n);
      addon.gemm(fill(m * k, r), fill(n * k, 7), out, 1, m, n, k, false, true, zero, zero);
      hash.update(Buffer.from(out.buffer));
    }
    const x = fill(1 << 18, r);
    const y = new Float32Array(x.length);
    addon.unary(1, x, y);
    hash.update(Buffer.from(y.buffer));
  }
  return hash.digest('hex');
}

const workerSource = `
import { parentPort, workerData } from 'node:worker_threads';
const { loadAddon } = await import(workerData.loadAddonUrl);
const load = loadAddon();
if (!load.ok) throw new Error(load.error);
const digestOf = new Function('addon', 'rounds', 'createHash', workerData.body);
const { createHash } = await import('node:crypto');
parentPort.postMessage(digestOf(load.value.addon, workerData.rounds, createHash));
`;

void test('threaded kernels called from several JS threads at once give a lone caller\'s bytes', { skip }, async () => {
  if (!load.ok) return;
  const { addon } = load.value;
  addon.setThreads(2);
  const alone = digestOf(addon, 3);
  // The function's body, run in each worker against that worker's own handle on the (process-wide) addon.
  const src = digestOf.toString();
  const body = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}'));
  const run = (): Promise<string> => new Promise((resolve, reject) => {
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`), {
      workerData: { loadAddonUrl, body, rounds: 3 },
    });
    w.once('message', (d: string) => resolve(d));
    w.once('error', reject);
  });
  const [a, b, c] = await Promise.all([run(), run(), Promise.resolve().then(() => digestOf(addon, 3))]);
  assert.equal(a, alone, 'worker 1 differs from the lone caller');
  assert.equal(b, alone, 'worker 2 differs from the lone caller');
  assert.equal(c, alone, 'the main thread, racing the workers, differs from its lone run');
});

void test('thousands of pool jobs in a row, at 1, 2 and 3 threads, give the same bytes', { skip }, () => {
  if (!load.ok) return;
  const { addon } = load.value;
  const digests = [1, 2, 3, 2].map((t) => {
    addon.setThreads(t);
    const hash = createHash('sha256');
    const x = new Float32Array(1 << 17).map((_, i) => Math.cos(i * 0.01));
    const y = new Float32Array(x.length);
    for (let i = 0; i < 1000; i++) {
      addon.unary(1, x, y);
      if (i % 250 === 0) hash.update(Buffer.from(y.buffer));
    }
    return hash.digest('hex');
  });
  addon.setThreads(2);
  assert.deepEqual(digests.slice(1), [digests[0], digests[0], digests[0]]);
});
