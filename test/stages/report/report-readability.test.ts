/**
 * The readability fixes of issue 18 point 7 that the numbers tests do not cover: the ablation table names the
 * adapter and carries ‖dW‖_F when the ablate stage has no adapter axis (the shipped pipeline's shape), the α* table
 * flags a search that did not converge, the loss plot gives every train stage a visible curve, and wide tables
 * keep their first column in view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, fixtureInputs, runReportKind, shippedShape } from './report-fixture.js';

interface JsonTable {
  id: string;
  rows: Record<string, number | string | null>[];
  notes: string[];
}

function tables(outDir: string): Map<string, JsonTable> {
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as { sections: { tables: JsonTable[] }[] };
  return new Map(report.sections.flatMap((s) => s.tables).map((t) => [t.id, t]));
}

void test('the ablation table names the ablated adapter from its rows and emits the ‖dW‖_F note of the matching diff', async () => {
  const t = tables((await runReportKind(shippedShape(fixtureInputs()))).outDir).get('delora-ablation');
  assert.ok(t);
  assert.deepEqual([...new Set(t.rows.map((r) => r.adapter))], ['delora'], 'not the stage id ablate@honesty-0');
  assert.ok(t.notes.includes('‖dW‖_F of delora = 33.43 (from diff@delora).'), t.notes.join(' | '));

  // no diff for that adapter and seed: the note says what is missing instead of staying silent
  const inputs = shippedShape(fixtureInputs());
  inputs.diff = (inputs.diff ?? []).filter((d) => d.matrix.adapter !== 'delora');
  const without = tables((await runReportKind(inputs)).outDir).get('delora-ablation');
  assert.ok(without?.notes.some((n) => /‖dW‖_F of delora: no diff stage for adapter delora, seed 0/.test(n)));
});

void test('a non-converged α* search is flagged in the α* table', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wsflow-report-conv-'));
  cpSync(FIXTURES, root, { recursive: true });
  const file = join(root, 'calibrate', 'summary.csv');
  writeFileSync(file, readFileSync(file, 'utf8').replace('dW:lora,2.5,0.6,0.1,2.0,1.0,2,True,0.6', 'dW:lora,2.5,0.6,0.1,2.0,1.0,2,False,0.6'));
  const run = await runReportKind(fixtureInputs(root));
  const t = tables(run.outDir).get('calibrated-si');
  assert.equal(t?.rows.find((r) => r.method === 'dW:lora')?.converged, 'no ⚠');
  assert.ok(t?.notes.some((n) => n.startsWith('⚠ dW:lora: the α* search did not converge for dW:lora (calibrate)')), t?.notes.join(' | '));
  const ok = tables((await runReportKind(fixtureInputs())).outDir).get('calibrated-si');
  assert.equal(ok?.rows.find((r) => r.method === 'dW:lora')?.converged, 'yes');
  rmSync(root, { recursive: true, force: true });
});

void test('the loss plot has one panel per adapter with its own y scale, one curve per train stage', async () => {
  const run = await runReportKind(shippedShape(fixtureInputs()));
  const spec = JSON.parse(readFileSync(join(run.outDir, 'plots', 'training-loss.vl.json'), 'utf8')) as {
    facet: { field: string };
    resolve: { scale: { y: string } };
    data: { values: { panel: string; run: string }[] };
  };
  assert.equal(spec.facet.field, 'panel');
  assert.equal(spec.resolve.scale.y, 'independent');
  assert.deepEqual([...new Set(spec.data.values.map((v) => `${v.panel}/${v.run}`))].sort(), ['lora/train_neg', 'lora/train_pos']);
  const svg = readFileSync(join(run.outDir, 'plots', 'training-loss.svg'), 'utf8');
  assert.equal((svg.match(/class="mark-line role-mark/g) ?? []).length >= 1, true);
});

void test('wide tables scroll inside their box with a sticky first column; SI headers say ×100; T1 shows its sort key first', async () => {
  const run = await runReportKind(fixtureInputs());
  const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
  assert.match(html, /\.table-wrap \{ overflow-x: auto; max-width: 100%; \}/);
  assert.match(html, /\.table-wrap th:first-child, \.table-wrap td:first-child \{ position: sticky; left: 0;/);
  assert.match(html, /@media \(max-width: 700px\) \{[^@]*?figure svg \{ max-width: none; \}/);
  const t1 = /<table data-table="si-table"><thead><tr>(.*?)<\/tr>/.exec(html)?.[1] ?? '';
  const headers = [...t1.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(headers.slice(0, 5), ['method', 'n_seeds', 'SI_best ×100 ▼', 'SI_k2 ×100', 'SI_k1 ×100']);
  const best = tables(run.outDir).get('si-table')?.rows.map((r) => r.SI_best as number) ?? [];
  assert.deepEqual(best, [...best].sort((a, b) => b - a), 'T1 is sorted by SI_best, descending');
});
