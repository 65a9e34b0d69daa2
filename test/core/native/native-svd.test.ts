/**
 * PiSSA's exact SVD through LAPACK in the native addon: on the PEFT golden it gives PEFT's singular values,
 * B·A, residual weight and (up to sign) A and B, and on random matrices of both orientations it equals the
 * JavaScript path to float64 rounding; its bytes do not depend on the thread count. Skipped, with the reason
 * printed, only when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAddon } from '../../../src/core/native/load-addon.js';
import { nativeSvdAvailable } from '../../../src/core/native/native-svd.js';
import { pissaInit, topSvd } from '../../../src/core/adapters/pissa-init.js';
import { Rng } from '../../../src/core/random.js';
import { assertClose, FIXTURES, flat, readJson, readTensors } from '../adapters/helpers.js';

const load = loadAddon();
const skip = nativeSvdAvailable() ? false : `native addon without topSvd: ${load.ok ? 'rebuild it (npm run build:native)' : load.error}`;
if (skip !== false) console.log(`# SKIP native SVD tests: ${skip}`);

interface PissaFixture {
  in_features: number;
  out_features: number;
  tensors_file: string;
  tensors: Record<string, string>;
  config: { r: number; lora_alpha: number };
  scaling: number;
  expected: Record<string, unknown>;
  tolerance: { init_atol?: number };
}

function product(B: Float32Array, A: Float32Array, out: number, inF: number, r: number): Float64Array {
  const ba = new Float64Array(out * inF);
  for (let o = 0; o < out; o++) for (let j = 0; j < r; j++) for (let c = 0; c < inF; c++) ba[o * inF + c] = (ba[o * inF + c] as number) + (B[o * r + j] as number) * (A[j * inF + c] as number);
  return ba;
}

void test('LAPACK PiSSA init matches the PEFT golden (singular values, B·A, residual, A and B up to sign)', { skip }, () => {
  const fx = readJson<PissaFixture>(join(FIXTURES, 'adapters', 'pissa.json'));
  const tensors = readTensors(join(FIXTURES, 'adapters', fx.tensors_file));
  const tensor = (role: string): Float32Array => {
    const t = tensors.get(fx.tensors[role] ?? '');
    assert.ok(t !== undefined, `fixture tensor ${role}`);
    return t.data;
  };
  const { r } = fx.config;
  const atol = fx.tolerance.init_atol ?? 1e-5;
  const out = fx.out_features, inF = fx.in_features;
  const init = pissaInit(tensor('base_weight'), out, inF, r, fx.scaling, { kind: 'exact' }, 'lapack');
  assertClose(init.singularValues, flat(fx.expected['init_singular_values']).slice(0, r), atol, 'singular values');
  assertClose(init.residual, flat(fx.expected['init_residual_weight']), atol, 'residual');
  assertClose(init.residual, tensor('residual_base_weight'), atol, 'residual vs PEFT model file');
  assertClose(product(init.B, init.A, out, inF, r), flat(fx.expected['init_BA']), atol, 'B·A');
  const refA = tensor('init_lora_A_reference_signs');
  const refB = tensor('init_lora_B_reference_signs');
  for (let j = 0; j < r; j++) {
    const rowA = init.A.subarray(j * inF, (j + 1) * inF);
    const refRow = refA.subarray(j * inF, (j + 1) * inF);
    let dot = 0;
    for (let c = 0; c < inF; c++) dot += (rowA[c] as number) * (refRow[c] as number);
    const sign = dot < 0 ? -1 : 1;
    assertClose(Array.from(rowA, (v) => v * sign), refRow, atol, `A row ${j}`);
    const colB = Array.from({ length: out }, (_, o) => (init.B[o * r + j] as number) * sign);
    const refCol = Array.from({ length: out }, (_, o) => refB[o * r + j] as number);
    assertClose(colB, refCol, atol, `B column ${j}`);
  }
  // and the JavaScript path, to float32 rounding of the stored tensors
  const js = pissaInit(tensor('base_weight'), out, inF, r, fx.scaling, { kind: 'exact' }, 'js');
  assertClose(init.A, js.A, 1e-6, 'A: lapack vs js');
  assertClose(init.B, js.B, 1e-6, 'B: lapack vs js');
  assertClose(init.residual, js.residual, 1e-6, 'residual: lapack vs js');
});

/** A [rows, cols] matrix with a decaying spectrum (a strong rank-8 part plus noise), as trained weights have. */
function decayingMatrix(rng: Rng, rows: number, cols: number): Float64Array {
  const w = Float64Array.from(rng.normalArray(rows * cols), (x) => 0.02 * x);
  for (let p = 0; p < 8; p++) {
    const a = rng.normalArray(rows), b = rng.normalArray(cols), scale = 1 / (p + 1);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[i * cols + j] = (w[i * cols + j] as number) + scale * (a[i] as number) * (b[j] as number) / Math.sqrt(rows);
  }
  return w;
}

void test('LAPACK top-k SVD equals the JavaScript one on tall, wide and square matrices', { skip }, () => {
  const rng = new Rng(15);
  for (const [rows, cols, k] of [[96, 40, 6], [40, 96, 6], [64, 64, 8], [33, 17, 1]] as const) {
    const w = decayingMatrix(rng, rows, cols);
    const a = topSvd(w, rows, cols, k, 'lapack');
    const b = topSvd(w, rows, cols, k, 'js');
    const what = `${rows}x${cols} k=${k}`;
    assertClose(a.s, b.s, 1e-10 * (b.s[0] as number), `${what}: singular values`);
    // signs are normalised by the same rule, so the vectors themselves agree
    assertClose(a.u, b.u, 1e-8, `${what}: u`);
    assertClose(a.v, b.v, 1e-8, `${what}: v`);
  }
});

void test('LAPACK top-k SVD gives the same bytes for 1 and 2 threads, and refuses a rank above min(rows, cols)', { skip }, () => {
  assert.ok(load.ok);
  const rng = new Rng(16);
  const w = decayingMatrix(rng, 200, 120);
  load.value.addon.setThreads(1);
  const one = topSvd(w, 200, 120, 16, 'lapack');
  load.value.addon.setThreads(2);
  const two = topSvd(w, 200, 120, 16, 'lapack');
  assert.deepEqual(Buffer.from(one.u.buffer), Buffer.from(two.u.buffer));
  assert.deepEqual(Buffer.from(one.v.buffer), Buffer.from(two.v.buffer));
  assert.deepEqual(one.s, two.s);
  assert.throws(() => topSvd(w, 200, 120, 121, 'lapack'), /rank 121 exceeds min\(out, in\) = 120/);
  const u = new Float64Array(4), s = new Float64Array(2), v = new Float64Array(4);
  assert.throws(() => load.value.addon.topSvd?.(new Float64Array(4), 2, 2, 3, u, s, v), /topSvd needs 1 <= k <= min\(rows, cols\)/);
});
