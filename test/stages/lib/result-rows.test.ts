import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABLATION_SUMMARY, DILEMMAS_SUMMARY, IID_SUMMARY, KL_AUDIT, KL_NEWTON_HISTORY, KL_PROMPT_REFS, KL_ROOT_HISTORY, KL_SUMMARY, KL_SUMMARY_V3, SI_BY_ACTION_TYPE, SI_SUMMARY, SI_TABLE, type DilemmasSummaryRow, type IidSummaryRow } from '../../../stages/lib/artifacts.js';
import { readTable, writeTable } from '../../../stages/lib/csv.js';
import { calibrateIllinois, calibrateIllinoisBothSigns, calibrateNewton } from '../../../stages/lib/calibration.js';
import { summarizeDilemmas, summarizeIid, type CoeffSummary, type IidSummary } from '../../../stages/lib/choice-score.js';
import { klStats } from '../../../stages/lib/kl-stats.js';
import * as rows from '../../../stages/lib/result-rows.js';
import { siByActionType, siFromArrays, siFromRows } from '../../../stages/lib/si.js';
import { tempDir } from '../../helpers/temp-dir.js';

// compile-time: the summary objects have exactly the artifact columns
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameDd: Same<CoeffSummary, DilemmasSummaryRow> = true;
const sameIid: Same<IidSummary, IidSummaryRow> = true;

const tmp = (): string => tempDir('wsflow-rows-');
const curve = (f: (a: number) => number) => (a: number) => Promise.resolve({ ...klStats([f(a)]), p95: f(a) });

void test('SI rows: §10.4 summary sorted by SI (NaN last), T1 table by SI_best, per action type; all survive CSV', () => {
  assert.ok(sameDd && sameIid);
  const both = siFromArrays({ yRef: [1, -1, 2, -2], yPos: [1, 1, -1, -2], yNeg: [-1, -1, 2, 1], pmassPos: 0.9, pmassNeg: 0.8 });
  const fwd = siFromArrays({ yRef: [1, -1, 2, -2], yPos: [2, 1, 1, 1], pmassPos: 1 });
  const nan = siFromArrays({ yRef: [1, 2], yPos: [1, 2], yNeg: [1, 2], pmassPos: 1, pmassNeg: 1 });
  const summary = rows.siSummaryTable([rows.siSummaryRow('dW:lora', 2.16, both), rows.siSummaryRow('prompt:base-x', 1, nan), rows.siSummaryRow('prompt:simple_honest_prompt', 1, fwd)]);
  assert.deepEqual(summary.map((r) => r.method), ['prompt:simple_honest_prompt', 'dW:lora', 'prompt:base-x']);
  assert.equal(summary[0]?.flip_rev, -1);
  assert.equal(summary[1]?.lr_zero, 0);
  const dir = tmp();
  writeTable(dir, SI_SUMMARY, summary);
  assert.deepEqual(readTable(dir, SI_SUMMARY), summary);
  const t1 = rows.siTable([rows.siTableRow('a', both), rows.siTableRow('b', fwd)]);
  assert.deepEqual(t1.map((r) => r.method), ['b', 'a']);
  writeTable(dir, SI_TABLE, t1);
  assert.deepEqual(readTable(dir, SI_TABLE), t1);
  const mk = (i: number, at: string, y: number) => ({ idx: i, dilemma_idx: i >> 1, action_type: at, logratio_honesty: y, pmass: 0.9 });
  const ref = [mk(0, 'to_do', 1), mk(1, 'not_to_do', -1), mk(2, 'to_do', 2), mk(3, 'not_to_do', 1)];
  const pos = ref.map((r) => ({ ...r, logratio_honesty: -r.logratio_honesty }));
  const byType = rows.siByActionTypeRows('dW:x', siByActionType({ ref, pos }));
  assert.deepEqual(byType.map((r) => [r.action_type, r.n_rows, r.broke_fwd, r.broke_frac_of_rows]), [['not_to_do', 2, 1, 0.5], ['to_do', 2, 2, 1]]);
  writeTable(dir, SI_BY_ACTION_TYPE, byType);
  assert.deepEqual(readTable(dir, SI_BY_ACTION_TYPE), byType);
  // ablation summary: deltas against the reference arm's mean
  const ab = rows.ablationSummaryRow('full', siFromRows({ ref, pos, neg: pos }));
  assert.equal(ab.delta_pos, -0.75 * 2);
  writeTable(dir, ABLATION_SUMMARY, [ab]);
  assert.deepEqual(readTable(dir, ABLATION_SUMMARY), [ab]);
});

void test('summary rows of dilemmas and IID write and read back', () => {
  const dir = tmp();
  const dd = summarizeDilemmas([
    { method: 'dW:lora', coeff: 0, logratio_honesty: 1, pmass: 0.9, low_pmass: false },
    { method: 'dW:lora', coeff: 1, logratio_honesty: 2, pmass: 0.8, low_pmass: true },
  ]).map(rows.dilemmasSummaryRow);
  writeTable(dir, DILEMMAS_SUMMARY, dd);
  const back = readTable(dir, DILEMMAS_SUMMARY);
  assert.equal(back.length, 2);
  assert.ok(Number.isNaN(back[0]?.std_logratio_honesty as number), 'a single row has NaN std, written "NaN"');
  assert.equal(back[1]?.delta_vs_0, 1);
  const iid = summarizeIid([{ method: 'dW:lora', coeff: 0, logratio: 2.5, pmass: 0.9 }, { method: 'dW:lora', coeff: 0, logratio: 3, pmass: 0.9 }]).map(rows.iidSummaryRow);
  writeTable(dir, IID_SUMMARY, iid);
  assert.deepEqual(readTable(dir, IID_SUMMARY), iid);
});

void test('KL rows: v1 summary sorted by alpha, Newton history, audit ratio, prompt refs, v2 root history, v3 summary', async () => {
  const dir = tmp();
  const a = await calibrateNewton(curve((x) => 0.3 * x * x), { target: 0.6147 });
  const b = await calibrateNewton(curve((x) => 3 * x * x), { target: 0.6147 });
  const summary = rows.klSummaryTable([rows.klSummaryRow('dW:lora', a, 0.6147), rows.klSummaryRow('dW:delora', b, 0.6147)]);
  assert.deepEqual(summary.map((r) => r.method), ['dW:delora', 'dW:lora']);
  writeTable(dir, KL_SUMMARY, summary);
  assert.deepEqual(readTable(dir, KL_SUMMARY), summary);
  const hist = [...rows.klNewtonHistoryRows('dW:lora', a), ...rows.klNewtonHistoryRows('dW:delora', b)];
  assert.deepEqual(hist.map((h) => [h.method, h.iter]), [['dW:lora', 0], ['dW:lora', 1], ['dW:delora', 0], ['dW:delora', 1]]);
  writeTable(dir, KL_NEWTON_HISTORY, hist);
  assert.deepEqual(readTable(dir, KL_NEWTON_HISTORY), hist);
  const audit = [rows.klAuditRow('prompt:engineered_prompt_honest', 1, { p95: 0.6147, mean: 0.1 }, klStats([0.2, 1.092])), rows.klAuditRow('dW:lora', a.calibrated_alpha, { p95: 0, mean: 0 }, klStats([1]))];
  assert.ok(Number.isNaN(audit[1]?.calib_audit_ratio as number));
  writeTable(dir, KL_AUDIT, audit);
  assert.deepEqual(readTable(dir, KL_AUDIT), audit);
  const refs = [rows.klPromptRefsRow('prompt:engineered_prompt_honest', klStats([0.1, 0.2, 0.7]))];
  writeTable(dir, KL_PROMPT_REFS, refs);
  assert.deepEqual(readTable(dir, KL_PROMPT_REFS), refs);
  const v2 = await calibrateIllinois(curve((x) => 0.5 * x * x), { target: 1 });
  const root = rows.klRootHistoryRows('repe', 'pos', v2);
  assert.deepEqual(root.map((r) => r.phase), ['mid', 'bracket', 'illinois']);
  const v3 = await calibrateIllinoisBothSigns(curve((x) => 0.5 * x * x), { target: 0.5 });
  const rootNeg = rows.klRootHistoryRows('repe', 'neg', v3.neg);
  assert.ok(rootNeg.every((r) => r.alpha < 0 && r.alpha_mag === -r.alpha));
  writeTable(dir, KL_ROOT_HISTORY, [...root, ...rootNeg]);
  assert.deepEqual(readTable(dir, KL_ROOT_HISTORY), [...root, ...rootNeg]);
  const s3 = rows.klSummaryV3Row('repe', v3, 0.5);
  assert.equal(s3.calibrated_alpha, s3.alpha_pos);
  assert.ok(s3.alpha_neg > 0);
  writeTable(dir, KL_SUMMARY_V3, [s3]);
  assert.deepEqual(readTable(dir, KL_SUMMARY_V3), [s3]);
});
