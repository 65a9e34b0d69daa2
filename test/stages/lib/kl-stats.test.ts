import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klPerPosition, klStats, percentile, percentileSorted, pooledKlStats } from '../../../stages/lib/kl-stats.js';

// x_i = ((i·7919) mod 1000)/997 + (i mod 13)/17: exact in float64 on both sides
const pool = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 997 + (i % 13) / 17);

// numpy 2.4.6: np.percentile(a, q) (method "linear"), a.mean(), a.max() on the same pools
const NUMPY = {
  1000: { mean: 0.8535912443211988, p50: 0.8538261844356598, p95: 1.4559030031270281, p99: 1.609663696973273, max: 1.6838161543453891 },
  7: { mean: 0.7924614178670465, p50: 0.9133282199539796, p95: 0.9738627647648829, p99: 0.9792436131925187, max: 0.9805888252994277 },
  2: { mean: 0.49029441264971385, p50: 0.49029441264971385, p95: 0.9315593840344563, p99: 0.9707829370464334, max: 0.9805888252994277 },
  1: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 },
} as const;

void test('percentiles and mean match numpy bit for bit (linear interpolation, pairwise summation)', () => {
  for (const n of [1000, 7, 2, 1] as const) {
    const s = klStats(pool(n));
    const want = NUMPY[n];
    assert.equal(s.n, n);
    assert.equal(s.p50, want.p50, `n=${n} p50`);
    assert.equal(s.p95, want.p95, `n=${n} p95`);
    assert.equal(s.p99, want.p99, `n=${n} p99`);
    assert.equal(s.max, want.max, `n=${n} max`);
    assert.equal(s.mean, want.mean, `n=${n} mean`);
  }
  // hand values: [1,2,3,4] → p50 = 2.5; p95 at virtual index 0.95·3 = 2.85 → 3.85, which numpy computes from the
  // upper end as 4 − 1·(1 − 0.8499999999999996) = 3.8499999999999996 (np.percentile gives exactly that)
  assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
  assert.equal(percentile([4, 1, 3, 2], 95), 3.8499999999999996);
  assert.equal(percentileSorted([1, 2], 0), 1);
  assert.equal(percentileSorted([1, 2], 100), 2);
  assert.ok(Number.isNaN(percentile([1, NaN], 50)));
  assert.throws(() => percentile([], 50), /empty/);
  assert.throws(() => percentile([1], 101), /\[0, 100\]/);
});

void test('KL(steered || base) per position, as numpy; p_s = 0 contributes 0, p_b = 0 under p_s > 0 gives +inf', () => {
  const ls = [0.5, 0.25, 0.25, 0.9, 0.1, 0.0].map(Math.log);
  const lb = [0.25, 0.5, 0.25, 0.5, 0.25, 0.25].map(Math.log);
  const kl = klPerPosition(ls, lb, 3, 2);
  // numpy float64: nansum(exp(ls) * (ls - lb), -1)
  assert.ok(Math.abs((kl[0] as number) - 0.17328679513998632) < 1e-16);
  assert.ok(Math.abs((kl[1] as number) - 0.4373789252244916) < 1e-16);
  // hand: row 0 = 0.5·ln2 + 0.25·ln(1/2) = 0.25·ln 2
  assert.ok(Math.abs((kl[0] as number) - 0.25 * Math.LN2) < 1e-16);
  const inf = klPerPosition([Math.log(0.5), Math.log(0.5)], [0, -Infinity], 2);
  assert.equal(inf[0], Infinity);
  assert.deepEqual([...klPerPosition(lb, lb, 3)], [0, 0]);
  assert.throws(() => klPerPosition(ls, lb.slice(3), 3), /steered log-probs have 6 values, base 3/);
  assert.throws(() => klPerPosition(ls, lb, 4), /not a whole number of rows of 4/);
  assert.throws(() => klPerPosition(ls, lb, 3, 20), /expected 20 positions × 3, got 2/);
});

void test('pooled stats over prompts × positions; empty pool is zeros with n = 0; NaN poisons every stat', () => {
  const a = pool(1000);
  const parts = [a.slice(0, 20), a.slice(20, 500), a.slice(500)];
  assert.deepEqual(pooledKlStats(parts), klStats(a));
  assert.deepEqual(klStats([]), { mean: 0, p50: 0, p95: 0, p99: 0, max: 0, n: 0 });
  const bad = klStats([1, NaN, 2]);
  assert.equal(bad.n, 3);
  assert.ok(Number.isNaN(bad.p95) && Number.isNaN(bad.mean) && Number.isNaN(bad.max));
});
