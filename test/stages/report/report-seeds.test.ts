/**
 * Seeds aggregated: with `seed: [0, 1]` the eval of seed 1 names its method dW:lora.s1; the report shows one
 * dW:lora row (mean over seeds, ± sd, n_seeds 2), plots with one entry per method, and per-seed rows only on demand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureInputs, runReportKind, twoSeedInputs } from './report-fixture.js';

interface JsonTable {
  id: string;
  columns: string[];
  rows: Record<string, number | string | null>[];
}

function tables(outDir: string): Map<string, JsonTable> {
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as { sections: { tables: JsonTable[] }[] };
  return new Map(report.sections.flatMap((s) => s.tables).map((t) => [t.id, t]));
}

void test('two seeds give one row per method with the mean, the sample sd and n_seeds; plots list each method once', async () => {
  const { root, inputs } = twoSeedInputs(1);
  const single = tables((await runReportKind(fixtureInputs())).outDir).get('si-table');
  const run = await runReportKind(inputs);
  const t = tables(run.outDir);
  const t1 = t.get('si-table');
  assert.ok(t1 && single);
  assert.deepEqual(
    t1.rows.map((r) => r.method),
    single.rows.map((r) => r.method),
    'no dW:lora.s1 row',
  );
  const lora = t1.rows.find((r) => r.method === 'dW:lora');
  const lora0 = single.rows.find((r) => r.method === 'dW:lora');
  assert.ok(lora && lora0);
  assert.equal(lora.n_seeds, 2);
  // each seed alone, from the per-seed table the report adds on demand; the aggregated row is their mean
  const perSeed = tables((await runReportKind(inputs, { per_seed: true })).outDir).get('si-table-per-seed');
  assert.ok(perSeed, 'per_seed: true adds the per-seed table');
  const s0 = perSeed.rows.find((r) => r.method === 'dW:lora · seed 0');
  const s1 = perSeed.rows.find((r) => r.method === 'dW:lora · seed 1');
  assert.ok(s0 && s1, `per-seed rows: ${perSeed.rows.map((r) => r.method).join(', ')}`);
  assert.equal(s0.SI_k2, lora0.SI_k2, 'seed 0 alone is the single-seed value');
  assert.notEqual(s1.SI_k2, s0.SI_k2, 'the shifted seed scores differently');
  for (const key of ['SI_k2', 'SI_k1', 'SI_best']) {
    const a = s0[key] as number;
    const b = s1[key] as number;
    assert.ok(Math.abs((lora[key] as number) - (a + b) / 2) < 1e-9, `${key} is the mean over seeds`);
    assert.ok(Math.abs((lora[`${key}_sd`] as number) - Math.abs(a - b) / Math.SQRT2) < 1e-9, `${key}_sd is the sample sd of two values`);
  }
  assert.ok(t1.columns.includes('SI_k2_sd') && t1.columns.includes('n_seeds'));
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  assert.match(md, /\| dW:lora \| 2 \| /);
  const intervals = t.get('si-intervals');
  assert.equal(intervals?.rows.find((r) => r.method === 'dW:lora')?.n_seeds, 2);
  for (const plot of ['si-by-method', 'fix-vs-broke', 'logratio-vs-alpha']) {
    const spec = readFileSync(join(run.outDir, 'plots', `${plot}.vl.json`), 'utf8');
    assert.doesNotMatch(spec, /dW:lora\.s1/, `${plot}: one entry per method`);
  }
  assert.equal(tables(run.outDir).get('si-table-per-seed'), undefined, 'no per-seed table unless asked');
  rmSync(root, { recursive: true, force: true });
});

void test('the KL search curves of two seeds share their method\'s colour: one legend entry, two lines', async () => {
  const { root, inputs } = twoSeedInputs(1);
  const history = join(root, 'calibrate', 'newton_history.csv');
  writeFileSync(history, `${readFileSync(history, 'utf8').trimEnd()}\ndW:lora.s1,0,1.0,0.02,0.01,0.11,0.2,0.3,120,0.18\ndW:lora.s1,1,2.2,0.1,0.05,0.6,1.2,2.0,120,1.0\n`);
  const run = await runReportKind(inputs);
  const spec = JSON.parse(readFileSync(join(run.outDir, 'plots', 'kl-calibration.vl.json'), 'utf8')) as {
    data: { values: { method: string; series: string }[] };
    layer: { encoding?: { color?: { field: string }; detail?: { field: string } } }[];
  };
  assert.deepEqual([...new Set(spec.data.values.map((v) => v.method))].sort(), ['dW:delora', 'dW:lora']);
  assert.deepEqual([...new Set(spec.data.values.map((v) => v.series))].sort(), ['dW:delora seed 0', 'dW:lora seed 0', 'dW:lora seed 1']);
  assert.equal(spec.layer[0]?.encoding?.color?.field, 'method');
  assert.equal(spec.layer[0]?.encoding?.detail?.field, 'series');
  rmSync(root, { recursive: true, force: true });
});

void test('the IID table shows one row per method over seeds: the mean of each seed\'s shift', async () => {
  const { root, inputs } = twoSeedInputs(1);
  const file = join(root, 'iid', 'iid_per_row.csv');
  const [, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  // seed 1: dW:lora again, its α = +1 logratios one higher
  const seed1 = lines
    .filter((l) => l.startsWith('dW:lora,'))
    .map((l) => {
      const c = l.split(',');
      c[0] = 'dW:lora.s1';
      if (c[1] === '1') c[3] = String(Number(c[3]) + 1);
      return c.join(',');
    });
  writeFileSync(file, `${readFileSync(file, 'utf8').trimEnd()}\n${seed1.join('\n')}\n`);
  const single = tables((await runReportKind(fixtureInputs())).outDir).get('iid-shift')?.rows.find((r) => r.method === 'dW:lora');
  const t = tables((await runReportKind(inputs)).outDir).get('iid-shift');
  assert.ok(single && t);
  assert.equal(t.rows.filter((r) => String(r.method).startsWith('dW:lora')).length, 1);
  const lora = t.rows.find((r) => r.method === 'dW:lora');
  assert.equal(lora?.n_seeds, 2);
  // seed 0 shifts by s, seed 1 by s + 1: the mean is s + 0.5
  assert.ok(Math.abs((lora?.shift_pos as number) - ((single.shift_pos as number) + 0.5)) < 1e-12);
  rmSync(root, { recursive: true, force: true });
});
