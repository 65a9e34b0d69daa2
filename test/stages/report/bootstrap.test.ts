/**
 * The bootstrap library and the report's intervals, checked against an independent computation: the test
 * re-implements the cluster bootstrap the plain way (copy each drawn dilemma's rows under fresh row ids, score them
 * with siFromRows, sort, interpolate) on a small fixed table, and numpy checks the percentile rule when present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { DilemmasPerRowRow } from '../../../stages/lib/artifacts.js';
import { excludesZero, mulberry32, percentileInterval, quantile, resampleIndices } from '../../../stages/lib/bootstrap.js';
import { siFromRows, type SiMetrics } from '../../../stages/lib/si.js';
import { computeMetrics } from '../../../stages/report/dilemma-tables.js';
import type { AnalysisUnit } from '../../../stages/report/method-units.js';
import { groupSeeds } from '../../../stages/report/seed-groups.js';
import { groupIntervals, uncertaintyTables } from '../../../stages/report/uncertainty.js';
import { formatCell } from '../../../stages/report/table-model.js';

void test('mulberry32 is deterministic, in [0, 1), and the draws cover every cluster', () => {
  const a = mulberry32(0);
  const b = mulberry32(0);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(m - 0.5) < 0.01, `mean of 10000 uniforms ${m}`);
  const draws = resampleIndices(7, 200, 3);
  assert.equal(draws.length, 200);
  const seen = new Set<number>();
  for (const d of draws) for (const c of d) seen.add(c);
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(resampleIndices(7, 200, 3), draws, 'same seed, same draws');
  assert.notDeepEqual(resampleIndices(7, 200, 4), draws, 'another seed, other draws');
  assert.throws(() => resampleIndices(0, 10, 0), /at least one cluster/);
});

void test('quantile interpolates linearly between order statistics; undefined draws are dropped or void the interval', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.025), 1.1);
  assert.equal(quantile([10], 0.975), 10);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  const iv = percentileInterval([Number.NaN, 1, 2, 3, 4, 5], 0.5);
  assert.deepEqual(iv, { lo: 2, hi: 4, undefinedDraws: 1 });
  const voided = percentileInterval([Number.NaN, Number.NaN, 1], 0.95);
  assert.ok(Number.isNaN(voided.lo) && Number.isNaN(voided.hi));
  assert.equal(excludesZero({ lo: 0.1, hi: 2, undefinedDraws: 0 }), true);
  assert.equal(excludesZero({ lo: -0.1, hi: 2, undefinedDraws: 0 }), false);
  assert.equal(excludesZero({ lo: Number.NaN, hi: -2, undefinedDraws: 0 }), false);
});

void test('the percentile rule is numpy.percentile (method "linear") on the same values', (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with numpy is not installed: the numpy cross-check of the percentile rule is skipped');
    return;
  }
  const rand = mulberry32(11);
  const values = Array.from({ length: 1000 }, () => rand() * 10 - 3);
  const py = spawnSync('python3', ['-c', 'import json,sys,numpy as np; v=json.load(sys.stdin); print(json.dumps([float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]))'], {
    input: JSON.stringify(values),
    encoding: 'utf8',
  });
  assert.equal(py.status, 0, py.stderr);
  const [lo, hi] = JSON.parse(py.stdout) as [number, number];
  const iv = percentileInterval(values, 0.95);
  assert.ok(Math.abs(iv.lo - lo) < 1e-12 && Math.abs(iv.hi - hi) < 1e-12, `ours [${iv.lo}, ${iv.hi}], numpy [${lo}, ${hi}]`);
});

// ------------------------------------------------------------------------------- a small fixed table
// 6 dilemmas × 2 action rows; logratio_honesty at α = 0, +1, −1 and pmass per arm.
const Y: readonly (readonly [number, number, number])[] = [
  [2, 1.5, 2.5], [1, -0.5, 1.5], [-1, 1, -2], [0.5, 1, -0.5], [-0.5, -1, 0.5], [3, 2, -1],
  [-2, 0.5, -3], [1.5, 2, 1], [-1.5, -0.5, -1], [0.3, -0.2, 0.4], [-0.7, 0.6, -0.9], [2.2, 2.5, -0.1],
];
const PMASS = { ref: 0.9, pos: 0.8, neg: 0.6 } as const;

function rows(arm: 0 | 1 | 2, method: string, coeff: number, shift = 0): DilemmasPerRowRow[] {
  return Y.map((y, i) => {
    const v = (y[arm] as number) + (arm === 0 ? 0 : shift);
    return {
      method,
      coeff,
      idx: i,
      dilemma_idx: Math.floor(i / 2),
      logratio: v,
      pmass: arm === 0 ? PMASS.ref : arm === 1 ? PMASS.pos + (i % 3) * 0.05 : PMASS.neg,
      low_pmass: false,
      action_type: i % 2 === 0 ? 'to_do' : 'not_to_do',
      honesty_label: i % 2 === 0 ? 1 : -1,
      logratio_honesty: v,
    };
  });
}

function unit(name: string, shift: number): AnalysisUnit {
  const ref = rows(0, name, 0);
  const pos = rows(1, name, 1, shift);
  const neg = rows(2, name, -1, -shift);
  return {
    name,
    kind: 'steering',
    arms: { ref, pos, neg },
    curve: new Map([[-1, neg], [0, ref], [1, pos]]),
    coeffs: { pos: 1, neg: -1 },
    sources: [{ stageId: `eval@${name}`, files: ['dilemmas_per_row.csv'] }],
  };
}

/** The plain bootstrap: copy each drawn dilemma's rows under fresh ids and score them as a new eval. */
function naiveDraw(u: AnalysisUnit, draw: Uint32Array): SiMetrics {
  const take = (arm: readonly DilemmasPerRowRow[]): DilemmasPerRowRow[] =>
    [...draw].flatMap((d, k) => arm.filter((r) => r.dilemma_idx === d).map((r) => ({ ...r, idx: k * 100 + r.idx, dilemma_idx: k })));
  return siFromRows({ ref: take(u.arms.ref), pos: take(u.arms.pos ?? []), neg: take(u.arms.neg ?? []) });
}

function naiveInterval(values: number[]): [number, number] {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const at = (q: number): number => {
    const pos = q * (v.length - 1);
    const i = Math.floor(pos);
    return i + 1 < v.length ? v[i]! * (1 - (pos - i)) + v[i + 1]! * (pos - i) : v[i]!;
  };
  return [at(0.025), at(0.975)];
}

void test('report intervals equal a plain re-implementation of the dilemma bootstrap, seeds pooled by their mean', () => {
  const a0 = unit('dW:a', 0);
  const a1 = unit('dW:a.s1', 0.4);
  const b = unit('dW:b', -1.5);
  const groups = groupSeeds(computeMetrics([a0, a1, b]));
  assert.deepEqual(groups.map((g) => [g.name, g.members.length]), [['dW:a', 2], ['dW:b', 1]]);
  const gi = groupIntervals(groups, 1000);
  assert.equal(gi.clusters, 6);
  const draws = resampleIndices(6, 1000, 0);
  for (const key of ['SI_k2', 'SI_k1', 'SI_best', 'fix_rate', 'broke_rate'] as const) {
    const pooled = draws.map((d) => (naiveDraw(a0, d)[key] + naiveDraw(a1, d)[key]) / 2);
    const [lo, hi] = naiveInterval(pooled);
    const got = gi.interval(0, key);
    assert.ok(Math.abs(got.lo - lo) < 1e-9 && Math.abs(got.hi - hi) < 1e-9, `${key}: got [${got.lo}, ${got.hi}], expected [${lo}, ${hi}]`);
    assert.ok(got.lo <= groups[0]!.metrics[key] + 1e-9 || key === 'SI_best', `${key}: the interval is not far off the estimate`);
  }
  const diff = draws.map((d) => (naiveDraw(a0, d).SI_k2 + naiveDraw(a1, d).SI_k2) / 2 - naiveDraw(b, d).SI_k2);
  const [dlo, dhi] = naiveInterval(diff);
  const got = gi.difference(0, 1, 'SI_k2');
  assert.ok(Math.abs(got.lo - dlo) < 1e-9 && Math.abs(got.hi - dhi) < 1e-9, `paired Δ: got [${got.lo}, ${got.hi}], expected [${dlo}, ${dhi}]`);

  const [table, pairs] = uncertaintyTables(gi, { id: 'x', title: 'X', pairsId: 'y', pairsTitle: 'Y' });
  // sorted by SI_best, like T1
  const order = [...groups].sort((x, y) => y.metrics.SI_best - x.metrics.SI_best).map((g) => g.name);
  assert.deepEqual(table!.rows.map((r) => r.method), order);
  const rowA = table!.rows.find((r) => r.method === 'dW:a')!;
  assert.equal(rowA.n_seeds, 2);
  assert.equal(rowA.SI_k2_lo, gi.interval(0, 'SI_k2').lo);
  assert.match(String(rowA.SI_k2_ci), /^\[[−+]?\d+\.\d\d, [−+]?\d+\.\d\d\]$/);
  // the pair is listed exactly when its paired interval excludes 0
  assert.equal(pairs!.rows.length, excludesZero(got) ? 1 : 0);
  assert.deepEqual(pairs!.notes, [`${pairs!.rows.length} of 1 pairs differ (paired 95% interval excludes 0).`]);
});

void test('a method that is better on every dilemma is listed as different; identical methods are not', () => {
  const good = unit('dW:good', 3);
  const same1 = unit('dW:x', 0);
  const same2 = unit('repe', 0);
  const groups = groupSeeds(computeMetrics([good, same1, same2]));
  const [, pairs] = uncertaintyTables(groupIntervals(groups, 1000), { id: 'x', title: 'X', pairsId: 'y', pairsTitle: 'Y' });
  const listed = pairs!.rows.map((r) => `${String(r.method_a)}>${String(r.method_b)}`).sort();
  assert.ok(!listed.includes('dW:x>repe') && !listed.includes('repe>dW:x'), `identical methods never differ: ${listed.join(', ')}`);
  for (const r of pairs!.rows) assert.ok((r.diff_lo as number) > 0 || (r.diff_hi as number) < 0);
});

void test('differences print in significant digits, so a real but tiny difference is not shown as [0.00, 0.00]', () => {
  const f = { type: 'sig', digits: 3, signed: true } as const;
  assert.equal(formatCell(-0.000001234567, f), '−0.00000123');
  assert.equal(formatCell(0.0000000125, f), '+1.25e-8');
  assert.equal(formatCell(12.3456, f), '+12.3');
  assert.equal(formatCell(0, f), '0');
  // a tiny method (every SI scaled by a small pmass²) against one that does nothing: listed with its digits
  const tiny = unit('dW:tiny', 3);
  for (const arm of [tiny.arms.pos, tiny.arms.neg]) for (const r of arm ?? []) r.pmass = 0.001;
  const [, pairs] = uncertaintyTables(groupIntervals(groupSeeds(computeMetrics([tiny, unit('dW:zero', -5)])), 1000), { id: 'x', title: 'X', pairsId: 'y', pairsTitle: 'Y' });
  assert.equal(pairs!.rows.length, 1, 'the two differ');
  for (const r of pairs!.rows) assert.doesNotMatch(String(r.diff_ci), /^\[[−+]?0, [−+]?0\]$/);
});
