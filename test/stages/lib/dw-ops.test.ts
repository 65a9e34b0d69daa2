import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/random.js';
import { ablationVariants, computeDiff, diffDiagnostics, frobeniusNorm, keepTouched, parseTensorName, perTensorNorms, roundToBf16, tauTensor } from '../../../stages/lib/dw-ops.js';
import { assertNear } from '../../helpers/numeric.js';

const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);

// τ+ = {a: [3, 0], b: [0, 4]}, τ− = {a: [1, 0], b: [0, −2], c: [5]}: p² = 25, n² = 5, ⟨τ+, τ−⟩ = −5 over a, b
const POS = new Map([['model.layers.8.self_attn.q_proj.weight', f32(3, 0)], ['model.layers.9.mlp.down_proj.weight', f32(0, 4)]]);
const NEG = new Map([['model.layers.8.self_attn.q_proj.weight', f32(1, 0)], ['model.layers.9.mlp.down_proj.weight', f32(0, -2)], ['model.layers.10.mlp.up_proj.weight', f32(5)]]);

void test('§4.2 diagnostics on a hand-computed pair', () => {
  const d = diffDiagnostics(POS, NEG);
  assert.equal(d.n_keys, 2);
  assert.equal(d.n_params, 4);
  assertNear(d.norm_tau_pos, 5, 1e-12, '', 'relative');
  assertNear(d.norm_tau_neg, Math.sqrt(5), 1e-12, '', 'relative');
  assertNear(d.cos_anti, 1 / Math.sqrt(5), 1e-12, '', 'relative');
  assertNear(d.asymmetry, Math.sqrt(5), 1e-12, '', 'relative');
  assertNear(d.norm_dW, Math.sqrt(40), 1e-12, '', 'relative');
  assertNear(d.norm_M, Math.sqrt(5), 1e-12, '', 'relative');
  assertNear(d.drift_ratio, Math.SQRT1_2, 1e-12, '', 'relative');
  assertNear(d.cos_dW_M, Math.SQRT1_2, 1e-12, '', 'relative');
  // antipodal τ− = −τ+: cos_anti 1, M = 0
  const anti = diffDiagnostics(POS, new Map([...POS].map(([k, v]) => [k, v.map((x) => -x)])));
  assertNear(anti.cos_anti, 1, 1e-12, '', 'relative');
  assert.equal(anti.norm_M, 0);
  // identical: ‖dW‖ = 0 (clamped), drift infinite
  const same = diffDiagnostics(POS, POS);
  assert.equal(same.norm_dW, 0);
  assert.equal(same.drift_ratio, Infinity);
});

void test('dW = τ+ − τ− over the shared keys in τ+ order; the bisector keeps ‖dW‖', () => {
  const r = computeDiff(POS, NEG);
  assert.deepEqual([...r.dw.keys()], [...POS.keys()]);
  assert.deepEqual([...(r.dw.get('model.layers.8.self_attn.q_proj.weight') as Float32Array)], [2, 0]);
  assert.deepEqual([...(r.dw.get('model.layers.9.mlp.down_proj.weight') as Float32Array)], [0, 6]);
  assertNear(r.norm, Math.sqrt(40), 1e-12, '', 'relative');
  assert.deepEqual(r.onlyNeg, ['model.layers.10.mlp.up_proj.weight']);
  assert.match(r.warnings.join('\n'), /0 tensor\(s\) only in τ\+ and 1 only in τ− are left out/);
  const b = computeDiff(POS, NEG, 'bisector');
  assertNear(b.norm, Math.sqrt(40), 1e-6, '', 'relative');
  // direction of τ+/p − τ−/n: a = 3/5 − 1/√5, b = 4/5 + 2/√5
  const ra = 3 / 5 - 1 / Math.sqrt(5);
  const rb = 4 / 5 + 2 / Math.sqrt(5);
  const s = Math.sqrt(40) / Math.hypot(ra, rb);
  assertNear((b.dw.get('model.layers.8.self_attn.q_proj.weight') as Float32Array)[0] as number, Math.fround(ra * s), 0, '', 'relative');
  assertNear((b.dw.get('model.layers.9.mlp.down_proj.weight') as Float32Array)[1] as number, Math.fround(rb * s), 0, '', 'relative');
  // float32 subtraction is correctly rounded, like torch's fp32
  const tiny = computeDiff(new Map([['w', f32(1)]]), new Map([['w', f32(Math.fround(1e-8))]]));
  assert.equal((tiny.dw.get('w') as Float32Array)[0], Math.fround(1 - Math.fround(1e-8)));
  assert.match(computeDiff(POS, POS).warnings[0] as string, /‖dW‖ = 0 over 2 shared tensor\(s\)/);
  assert.throws(() => computeDiff(new Map([['x', f32(1)]]), new Map([['y', f32(1)]])), /no tensor is touched by both adapters: τ\+ has 1 tensor\(s\), τ− has 1/);
  assert.throws(() => computeDiff(new Map([['x', f32(1)]]), new Map([['x', f32(1, 2)]])), /tensor x: τ\+ has 1 elements but τ− has 2/);
  assert.throws(() => computeDiff(POS, new Map([...POS].map(([k, v]) => [k, v.map(() => 0)])), 'bisector'), /bisector mode needs both τ\+ and τ− non-zero/);
});

void test('τ = merged − base in f32 or bf16 (where small updates round away); untouched tensors are dropped', () => {
  const base = f32(1, 2, -3);
  const merged = f32(1 + 2 ** -9, 2 + 2 ** -3, -3);
  assert.deepEqual([...tauTensor('w', merged, base)], [2 ** -9, 2 ** -3, 0]);
  // bf16 ulp at 1 is 2^-7: +2^-9 rounds away; at 2 the ulp is 2^-6, so 2^-3 survives
  assert.deepEqual([...tauTensor('w', merged, base, 'bf16')], [0, 2 ** -3, 0]);
  assert.deepEqual([...roundToBf16(f32(1 + 2 ** -8, 1 + 3 * 2 ** -8))], [1, 1 + 2 ** -6], 'ties to even');
  assert.throws(() => tauTensor('w', merged, f32(1)), /τ w: merged has 3 elements, base 1/);
  const kept = keepTouched(new Map([['a', f32(0, 0)], ['b', f32(0, -1e-30)], ['c', f32(-0)]]));
  assert.deepEqual([...kept.keys()], ['b']);
});

void test('per-tensor norms with layer and module parsed from HF names', () => {
  assert.deepEqual(parseTensorName('model.layers.8.self_attn.q_proj.weight'), { layer: 8, module: 'q_proj' });
  assert.deepEqual(parseTensorName('model.layers.21.mlp.down_proj.weight'), { layer: 21, module: 'down_proj' });
  assert.deepEqual(parseTensorName('model.embed_tokens.weight'), { layer: -1, module: 'embed_tokens' });
  assert.deepEqual(parseTensorName('lm_head.weight'), { layer: -1, module: 'lm_head' });
  const r = computeDiff(POS, NEG);
  const rows = perTensorNorms(POS, NEG, r.dw);
  assert.deepEqual(rows, [
    { name: 'model.layers.8.self_attn.q_proj.weight', layer: 8, module: 'q_proj', norm_tau_pos: 3, norm_tau_neg: 1, norm_dw: 2 },
    { name: 'model.layers.9.mlp.down_proj.weight', layer: 9, module: 'down_proj', norm_tau_pos: 4, norm_tau_neg: 2, norm_dw: 6 },
  ]);
  assert.throws(() => perTensorNorms(POS, new Map(), r.dw), /is in dW but not in τ−/);
});

void test('§12 ablation variants: common norm, norm allocation, draw order, seeded', () => {
  const w = new Map([['x', f32(3, 4)], ['y', f32(1, 2, 2)], ['z', f32(0, 0)]]);
  const v = ablationVariants(w, 0);
  const c = Math.sqrt((25 + 9 + 0) / 3);
  assertNear(v.common_norm, c, 1e-12, '', 'relative');
  assert.deepEqual([...v.full.get('x') as Float32Array], [3, 4]);
  assert.notEqual(v.full.get('x'), w.get('x'), 'full is a copy');
  assertNear(frobeniusNorm(v.dir_only.get('x') as Float32Array), c, 1e-6, '', 'relative');
  assertNear(frobeniusNorm(v.dir_only.get('y') as Float32Array), c, 1e-6, '', 'relative');
  assert.deepEqual([...v.dir_only.get('z') as Float32Array], [0, 0], 'n_k = 0 keeps w_k');
  // dir_only keeps the direction
  const dx = v.dir_only.get('x') as Float32Array;
  assertNear((dx[0] as number) / (dx[1] as number), 0.75, 1e-6, '', 'relative');
  // mag_only keeps each n_k, random_norm gives each tensor norm c
  assertNear(frobeniusNorm(v.mag_only.get('x') as Float32Array), 5, 1e-6, '', 'relative');
  assertNear(frobeniusNorm(v.mag_only.get('y') as Float32Array), 3, 1e-6, '', 'relative');
  for (const k of ['x', 'y', 'z']) assertNear(frobeniusNorm(v.random_norm.get(k) as Float32Array), c, 1e-6, '', 'relative');
  // draw order: all mag_only tensors in key order, then all random_norm tensors, from one generator
  const rng = new Rng(0);
  const gx = rng.normalArray(2);
  rng.normalArray(3);
  rng.normalArray(2);
  const gx2 = rng.normalArray(2);
  const mx = v.mag_only.get('x') as Float32Array;
  assertNear(mx[0] as number, Math.fround((gx[0] as number) * (5 / frobeniusNorm(gx))), 1e-7, '', 'relative');
  const rx = v.random_norm.get('x') as Float32Array;
  assertNear(rx[1] as number, Math.fround((gx2[1] as number) * (c / frobeniusNorm(gx2))), 1e-7, '', 'relative');
  assert.deepEqual(ablationVariants(w, 0), v, 'same seed, same variants');
  assert.notDeepEqual(ablationVariants(w, 1).mag_only, v.mag_only);
  assert.throws(() => ablationVariants(new Map()), /no tensors/);
});
