/**
 * The report's subspace table (issue 16): built from subspace stages' summary CSVs, one row per weight diff, the
 * printed ratio_top / ratio_weak per module kind and ratio_weak_write equal to the CSV values (2 decimals).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SUBSPACE_SUMMARY, type SubspaceSummaryRow } from '../../../stages/lib/artifacts.js';
import { writeTable } from '../../../stages/lib/csv.js';
import { fixtureInputs, markdownTable, runReportKind } from './report-fixture.js';
import { cleanupTempDirs, tempDir, upstream } from '../helpers.js';

after(cleanupTempDirs);

function summary(kinds: Record<string, [number, number]>): SubspaceSummaryRow[] {
  return Object.entries(kinds).map(([kind, [top, weak]]) => ({ kind, mean_ratio_top: top, std_ratio_top: 0.1, mean_ratio_weak: weak, std_ratio_weak: NaN, mean_norm: 1, n: 2 }));
}

void test('report: the subspace table shows ratio_top per module kind, ratio_weak of the residual writers and ratio_weak_write', async () => {
  const stages = [
    { id: 'subspace@honesty-lora-0', adapter: 'lora', rows: summary({ down_proj: [1.5, 2.25], o_proj: [3.25, 0.75], q_proj: [0.5, NaN] }) },
    { id: 'subspace@honesty-ia3-0', adapter: 'ia3', rows: summary({ down_proj: [1.0, 1.0], o_proj: [2.0, 4.0], q_proj: [1.25, NaN] }) },
  ];
  const ups = stages.map((s) => {
    const dir = join(tempDir(), 'out');
    mkdirSync(dir);
    writeTable(dir, SUBSPACE_SUMMARY, s.rows);
    return upstream(s.id, dir, { behavior: 'honesty', adapter: s.adapter, seed: 0 });
  });
  const run = await runReportKind({ evals: fixtureInputs()['evals'] ?? [], subspace: ups }, {}, tempDir());
  const t = markdownTable(readFileSync(join(run.outDir, 'report.md'), 'utf8'), 'Subspace alignment of dW with the base weights');
  assert.deepEqual(t.header, ['adapter', 'ratio_top down_proj', 'ratio_top o_proj', 'ratio_top q_proj', 'ratio_weak o_proj', 'ratio_weak down_proj', 'ratio_weak_write', 'source']);
  assert.deepEqual(t.rows, [
    ['ia3', '1.00', '2.00', '1.25', '4.00', '1.00', '2.50', 'subspace@honesty-ia3-0'],
    ['lora', '1.50', '3.25', '0.50', '0.75', '2.25', '1.50', 'subspace@honesty-lora-0'],
  ]);
});
