import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateIllinois, calibrateIllinoisBothSigns, calibrateNewton, type MeasureKl } from '../../../stages/lib/calibration.js';
import type { KlStats } from '../../../stages/lib/kl-stats.js';

/** A synthetic KL curve: every statistic equals f(α) (p95 is what the searches read). */
function curve(f: (alpha: number) => number, calls: number[] = []): MeasureKl {
  return (alpha: number): Promise<KlStats> => {
    calls.push(alpha);
    const v = f(alpha);
    return Promise.resolve({ mean: v / 2, p50: v / 3, p95: v, p99: v * 1.5, max: v * 2, n: 1000 });
  };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

void test('v1 Newton on KL = c·α²: one step lands on the analytic α, so 2 measurements (1 when α₀ is in the band)', async () => {
  // M(1) = c; α₁ = √(T/c); M(α₁) = c·T/c = T → ratio 1. The update is exact for a pure quadratic.
  const T = 0.6147;
  for (const c of [0.05, 0.3, 2.5, 40, 1000]) {
    const calls: number[] = [];
    const r = await calibrateNewton(curve((a) => c * a * a, calls), { target: T });
    assert.equal(r.iterations, 2, `c=${c}`);
    assert.equal(r.converged, true);
    assert.ok(rel(r.calibrated_alpha, Math.sqrt(T / c)) < 1e-14, `c=${c}: ${r.calibrated_alpha} vs ${Math.sqrt(T / c)}`);
    assert.ok(Math.abs(r.ratio_at_calib - 1) < 1e-14);
    assert.deepEqual(calls, [1, r.calibrated_alpha]);
    assert.deepEqual(r.history.map((h) => [h.iter, h.phase]), [[0, 'newton'], [1, 'newton']]);
    assert.equal(r.p95_at_calib, r.history[1]?.p95);
    assert.equal(r.mean_at_calib, r.history[1]?.mean);
    assert.equal(r.max_at_calib, r.history[1]?.max);
  }
  // |c/T − 1| < 0.2 at α₀ = 1: stop after one measurement, α* = 1
  const r = await calibrateNewton(curve((a) => 1.15 * T * a * a), { target: T });
  assert.deepEqual([r.iterations, r.calibrated_alpha, r.converged], [1, 1, true]);
  // exactly on the band edge is outside it (strict <)
  const edge = await calibrateNewton(curve((a) => 1.25 * a * a), { target: 1, band: 0.25 });
  assert.equal(edge.iterations, 2);
});

void test('v1 Newton on KL = c·α^p: log-error shrinks by (1 − p/2) per step, iterations as that implies', async () => {
  // p = 1: a_{k+1} − a* = ½(a_k − a*) in log space, so ratio_k = (c/T)^(2^-k). For c/T = 16: ratios 16, 4, 2, √2
  // → |ratio − 1| < 0.2 first at k = 4, beyond the 4-measurement budget: not converged, last point returned.
  const T = 0.5;
  const r1 = await calibrateNewton(curve((a) => 16 * T * a), { target: T });
  assert.equal(r1.iterations, 4);
  assert.equal(r1.converged, false);
  assert.deepEqual(r1.history.map((h) => Math.round(h.ratio * 1e12) / 1e12), [16, 4, 2, Math.round(Math.SQRT2 * 1e12) / 1e12]);
  assert.equal(r1.calibrated_alpha, r1.history[3]?.alpha, 'final is the last measured α, not the best');
  // with c/T = 1.3: ratios 1.3, √1.3 ≈ 1.140 → converged at 2 measurements
  const r2 = await calibrateNewton(curve((a) => 1.3 * T * a), { target: T });
  assert.deepEqual([r2.iterations, r2.converged], [2, true]);
  assert.ok(rel(r2.calibrated_alpha, 1 / Math.sqrt(1.3)) < 1e-14);
  // p = 4: error factor −1, the iteration oscillates between α₀ and √(T/c)·... forever
  const r4 = await calibrateNewton(curve((a) => 9 * T * a ** 4), { target: T });
  assert.equal(r4.iterations, 4);
  assert.equal(r4.converged, false);
  assert.ok(rel(r4.history[0]?.ratio as number, 9) < 1e-12 && rel(r4.history[1]?.ratio as number, 1 / 9) < 1e-12 && rel(r4.history[2]?.ratio as number, 9) < 1e-12);
});

void test('v1 Newton: M ≤ 0 doubles α; a target ≤ 0 counts as converged (ratio 1), as the reference', async () => {
  const calls: number[] = [];
  const r = await calibrateNewton(curve(() => 0, calls), { target: 0.6 });
  assert.deepEqual(calls, [1, 2, 4, 8]);
  assert.equal(r.calibrated_alpha, 8);
  assert.equal(r.converged, false);
  // zero below α = 3, quadratic above: doubling then one Newton step
  const r2 = await calibrateNewton(curve((a) => (a < 3 ? 0 : 0.1 * a * a)), { target: 2.5 });
  assert.deepEqual(r2.history.map((h) => h.alpha).slice(0, 3), [1, 2, 4]);
  assert.ok(rel(r2.calibrated_alpha, 5) < 1e-14);
  assert.equal(r2.iterations, 4);
  const r3 = await calibrateNewton(curve((a) => a), { target: 0 });
  assert.deepEqual([r3.iterations, r3.ratio_at_calib, r3.converged], [1, 1, true]);
  await assert.rejects(calibrateNewton(curve((a) => a), { target: NaN }), /target must be finite/);
  await assert.rejects(calibrateNewton(curve((a) => a), { target: 1, maxIters: 0 }), /maxIters/);
});

void test('v2 Illinois on KL = c·α²: log-log is linear, so one regula-falsi step after the bracket is exact', async () => {
  // T = 1, c = 0.5: mid √0.8 → 0.4 < T; double to 1.789 → 1.6 ≥ T; bracket [0.894, 1.789]; step → √2 (v = 1).
  const calls: number[] = [];
  const r = await calibrateIllinois(curve((a) => 0.5 * a * a, calls), { target: 1 });
  assert.equal(r.iterations, 3);
  assert.equal(r.converged, true);
  assert.ok(rel(r.calibrated_alpha, Math.SQRT2) < 1e-14);
  assert.deepEqual(r.history.map((h) => h.phase), ['mid', 'bracket', 'illinois']);
  assert.ok(rel(calls[0] as number, Math.sqrt(0.8)) < 1e-15 && rel(calls[1] as number, 2 * Math.sqrt(0.8)) < 1e-15);
  // T = 1, c = 10: mid → 8 > T; halve 0.447 → 2 > T; halve 0.224 → 0.5 ≤ T; step → √0.1: 4 measurements
  const r2 = await calibrateIllinois(curve((a) => 10 * a * a), { target: 1 });
  assert.deepEqual(r2.history.map((h) => h.phase), ['mid', 'bracket', 'bracket', 'illinois']);
  assert.ok(rel(r2.calibrated_alpha, Math.sqrt(0.1)) < 1e-14);
  // mid already within tol (absolute 0.05): v(mid) = 1.25·0.8 = 1.0 (up to rounding) → 1 measurement
  const r3 = await calibrateIllinois(curve((a) => 1.25 * a * a), { target: 1 });
  assert.deepEqual([r3.iterations, r3.converged], [1, true]);
});

// Traces from a direct Python transliteration of _illinois_calibrate (ws/eval/kl_calibrate.py@08efb837),
// run with CPython 3.11 on the same curves; they exercise the staleness halving and the closest-point fallback.
const PY_TRACES = {
  expm1_cube: { final_iter: 13, alphas: [0.8944271909999159, 1.7888543819998317, 0.9681717914923144, 1.002479765030992, 1.0208145922006047, 1.02772349760758, 1.0303084736828272, 1.031272946246683, 1.0316324153170937, 1.0317663397617782, 1.0318162274559868, 1.0318348099013792, 1.0318417314504553, 1.0318443095541925] },
  saturating: { final_iter: 14, alphas: [0.8944271909999159, 1.7888543819998317, 3.5777087639996634, 2.8672024400538305, 2.554495844827229, 2.5417798905090603, 2.5298353785734573, 2.5186086851694522, 2.508050447831032, 2.4981151900302048, 2.48876098084663, 2.479949126425419, 2.4716438901971034, 2.4638122391120914, 2.456423613397495] },
};

void test('v2 Illinois on monotone curved curves reproduces the reference trace (staleness rule, closest point)', async () => {
  const cases = [
    { name: 'expm1_cube' as const, f: (a: number) => Math.expm1(a * a * a), target: 2.0, tol: 1e-6 },
    { name: 'saturating' as const, f: (a: number) => (3 * (a * a * a * a)) / (1 + a * a * a * a), target: 2.9, tol: 1e-4 },
  ];
  for (const c of cases) {
    const r = await calibrateIllinois(curve(c.f), { target: c.target, tol: c.tol });
    const want = PY_TRACES[c.name];
    assert.equal(r.history.length, want.alphas.length, c.name);
    r.history.forEach((h, i) => assert.ok(rel(h.alpha, want.alphas[i] as number) < 1e-12, `${c.name} iter ${i}: ${h.alpha} vs ${want.alphas[i]}`));
    assert.equal(r.converged, false);
    assert.equal(r.iterations, 2 + (c.name === 'saturating' ? 1 : 0) + 12);
    assert.equal(r.calibrated_alpha, r.history[want.final_iter]?.alpha, 'the closest point seen');
    // every Illinois step stays strictly inside the current bracket
    for (const h of r.history) assert.ok(h.alpha > 0);
  }
  // with the default tolerance both converge quickly
  const ok = await calibrateIllinois(curve((a) => Math.expm1(a * a * a)), { target: 2.0 });
  assert.equal(ok.converged, true);
  assert.ok(Math.abs(ok.p95_at_calib - 2.0) < 0.05);
});

void test('v2 Illinois edge cases: no bracket (either side), zero KL at the low end, non-convergence', async () => {
  // never reaches T: doubling overshoots hi (runs while c < 16): 0.894, 1.79, 3.58, 7.16, 14.3, 28.6
  const up = await calibrateIllinois(curve((a) => 0.01 * a * a), { target: 10 });
  assert.equal(up.iterations, 6);
  assert.equal(up.converged, false);
  assert.ok(rel(up.calibrated_alpha, 32 * Math.sqrt(0.8)) < 1e-14, 'the last point, not the closest');
  // always above T: halving until c ≤ 0.05: 0.447, 0.224, 0.112, 0.0559, 0.0280
  const down = await calibrateIllinois(curve(() => 5), { target: 1 });
  assert.equal(down.iterations, 6);
  assert.ok(rel(down.calibrated_alpha, Math.sqrt(0.8) / 32) < 1e-14);
  // KL exactly 0 below α = 0.5: mid 0.894 → 0.8 > T, halve to 0.447 → 0 ≤ T; v_lo = 0 forces geometric midpoints
  const calls: number[] = [];
  const z = await calibrateIllinois(curve((a) => (a < 0.5 ? 0 : a * a), calls), { target: 0.5 });
  assert.equal(z.converged, true);
  assert.ok(Math.abs(z.p95_at_calib - 0.5) < 0.05);
  assert.ok(rel(calls[2] as number, Math.sqrt((Math.sqrt(0.8) / 2) * Math.sqrt(0.8))) < 1e-14, 'midpoint of the bracket while v_lo = 0');
  // maxRootIters = 0 after bracketing: the closest of the bracket points
  const n0 = await calibrateIllinois(curve((a) => 0.6 * a * a), { target: 1, maxRootIters: 0 });
  assert.equal(n0.iterations, 2);
  assert.equal(n0.converged, false);
  assert.ok(rel(n0.calibrated_alpha, Math.sqrt(0.8)) < 1e-14, '|0.48 − 1| < |1.92 − 1|');
  await assert.rejects(calibrateIllinois(curve((a) => a), { target: 0 }), /target must be a positive finite number/);
  await assert.rejects(calibrateIllinois(curve((a) => a), { target: 1, lo: 2, hi: 1 }), /lo \(2\) must be below hi \(1\)/);
});

void test('v3: +α and −α calibrated separately; the measurement sees the signed α', async () => {
  const seen: number[] = [];
  const asym = curve((a) => (a > 0 ? 0.5 * a * a : 2 * a * a), seen);
  const r = await calibrateIllinoisBothSigns(asym, { target: 0.5 });
  assert.ok(rel(r.alpha_pos, 1) < 1e-14);
  assert.ok(rel(r.alpha_neg, 0.5) < 1e-14);
  assert.ok(r.neg.calibrated_alpha < 0);
  assert.ok(r.neg.history.every((h) => h.alpha < 0));
  assert.ok(seen.slice(0, r.pos.iterations).every((a) => a > 0));
  assert.ok(seen.slice(r.pos.iterations).every((a) => a < 0));
});
