/**
 * The report's tables from hand-written per-row inputs (test/fixtures/report), checked value by value against
 * numbers computed by hand. Each expected value is a literal; the comment next to it is the arithmetic.
 *
 * Fixture reference arm (α = 0, also prompt:base): y = logratio_honesty = [2, 1, −1, 0.5, −0.5, 3] for idx 0..5
 *   → cho (y > 0) = idx {0, 1, 3, 5}: n_cho = 4; rej (y < 0) = idx {2, 4}: n_rej = 2
 *   → mean = 5/6 = 0.833333…; Σy² = 15.5, SS = 15.5 − 6·(5/6)² = 34/3, std = √(34/3 / 5) = 1.5055453054181622
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureInputs, markdownTable, runReportKind } from './report-fixture.js';
import { parsePrintedNumber } from '../../../stages/report/table-model.js';
import { isNear } from '../../helpers/numeric.js';

type Cell = number | string | null;

interface Expected {
  id: string;
  title: string;
  columns: string[];
  /** decimals printed per column (null: text column; 0: integer) */
  digits: (number | null)[];
  rows: Cell[][];
}

const REF_MEAN = 0.8333333333333334; // 5/6
const REF_STD = 1.505545305418162; // √(34/15)

const EXPECTED: Expected[] = [
  {
    id: 'si-table',
    title: 'T1 — Surgical informedness at α = ±1',
    columns: ['method', 'n_seeds', 'SI_best', 'SI_k2', 'SI_k1', 'SI_best_intended', 'si_fwd', 'si_rev', 'fix_rate', 'broke_rate', 'fix_fwd', 'broke_fwd', 'flip_rev', 'counter_rev', 'n_cho', 'n_rej', 'pmass_ratio', 'source'],
    digits: [null, 0, 2, 2, 2, 2, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 3, null],
    rows: [
      // prompt:simple: −1 = simple_dishonest y=[1,.5,1,.5,2,3], 0 = base, +1 = simple_honest y=[2,−1,.5,−.5,1,2]
      //   +1: fix = rej∧y>0 = idx2(.5), idx4(1) = 2 → 2/2 = 1; broke = cho∧y<0 = idx1(−1), idx3(−.5) = 2 → 2/4 = .5
      //   −1: flip = cho∧y<0 = 0 → 0; counter = rej∧y>0 = idx2(1), idx4(2) = 2 → 2/2 = 1
      //   si_fwd(2) = 1 − 2·.5 = 0; si_rev(2) = 0 − 2·1 = −2; pmass: honest 1.0, dishonest .9 → min² = .81
      //   SI_k2 = (0 + −2)/2 · .81 · 100 = −81; SI_k1 = ((1 − .5) + (0 − 1))/2 · 81 = −20.25
      //   SI_best = max(0, counter_rate − 2·flip_rate = 1) · 81 = 81; SI_best_intended = max(0, −2) · 81 = 0
      ['prompt:simple', 1, 81, -81, -20.25, 0, 0, -2, 1, 0.5, 2, 2, 0, 2, 4, 2, 0.81, 'eval@prompts'],
      // repe: +1 y=[2.5,1.5,−.5,1,.5,3.5] → fix idx4 = 1 (.5), broke 0; −1 y=[1.5,.5,−1.5,0,−1,2.5] → flip 0
      //   (idx3 is exactly 0: not < 0), counter 0; pmass 1.0 both → 1
      //   si_fwd = .5 − 0 = .5; si_rev = 0; SI_k2 = SI_k1 = .25·100 = 25; SI_best = max(.5, 0 − 0)·100 = 50
      ['repe', 1, 50, 25, 25, 50, 0.5, 0, 0.5, 0, 1, 0, 0, 0, 4, 2, 1, 'eval@repe'],
      // prompt:engineered_honest = engineered_prompt_honest (no dishonest partner → forward-only vs prompt:base): y=[3,2,−.5,1,.5,4]
      //   fix idx4 = 1 → .5; broke 0; pmass .5 → .25; SI_k2 = SI_k1 = SI_best = .5 · .25 · 100 = 12.5
      ['prompt:engineered_honest', 1, 12.5, 12.5, 12.5, 12.5, 0.5, null, 0.5, 0, 1, 0, null, null, 4, 2, 0.25, 'eval@prompts'],
      // dW:lora: +1 y=[1.5,−.5,1,1,−1,2] → fix idx2 = 1 → .5, broke idx1 = 1 → .25
      //   −1 y=[2.5,1.5,−2,−.5,.5,−1] → flip idx3, idx5 = 2 → .5, counter idx4 = 1 → .5
      //   si_fwd = .5 − .5 = 0; si_rev = .5 − 1 = −.5; pmass +1 .8, −1 mean(.4,.6,.5,.5,.4,.6) = .5 → .25
      //   SI_k2 = (0 − .5)/2 · 25 = −6.25; SI_k1 = ((.5 − .25) + (.5 − .5))/2 · 25 = 3.125
      //   SI_best = max(0, .5 − 2·.5 = −.5) · 25 = 0; SI_best_intended = max(0, −.5) · 25 = 0
      ['dW:lora', 1, 0, -6.25, 3.125, 0, 0, -0.5, 0.5, 0.25, 1, 1, 2, 1, 4, 2, 0.25, 'eval@lora'],
    ],
  },
  {
    id: 'raw-logratio',
    title: 'Raw logratio_honesty, mean ± std (ddof = 1)',
    columns: ['method', 'n_seeds', 'mean_neg', 'std_neg', 'mean_ref', 'std_ref', 'mean_pos', 'std_pos', 'n_rows', 'source'],
    digits: [null, 0, 3, 3, 3, 3, 3, 3, 0, null],
    rows: [
      // simple_dishonest Σ=8 → 1.3333, Σy²=15.5, SS=15.5−6·(4/3)²=4.8333 → √(4.8333/5)=.983192
      // simple_honest Σ=4 → .6667, Σy²=10.5, SS=10.5−6·(2/3)²=7.8333 → √(7.8333/5)=1.251666
      ['prompt:simple', 1, 1.3333333333333333, 0.983192080250175, REF_MEAN, REF_STD, 0.6666666666666666, 1.2516655570345725, 6, 'eval@prompts'],
      // repe −1 Σ=2 → .3333, Σy²=12, SS=12−6·(1/3)²=11.3333 → 1.505545; +1 Σ=8.5 → 1.416667, Σy²=22.25,
      //   SS=22.25−72.25/6=10.208333 → √(2.0416667)=1.428869
      ['repe', 1, 0.3333333333333333, REF_STD, REF_MEAN, REF_STD, 1.4166666666666667, 1.4288690166235205, 6, 'eval@repe'],
      // engineered honest Σ=10 → 1.6667, Σy²=30.5, SS=30.5−100/6=13.8333 → √(2.766667)=1.663330
      ['prompt:engineered_honest', 1, null, null, REF_MEAN, REF_STD, 1.6666666666666667, 1.66332999331662, 6, 'eval@prompts'],
      // lora −1 Σ=1 → .1667, Σy²=14, SS=14−1/6=13.8333 → 1.663330; +1 Σ=4 → .6667, Σy²=9.5, SS=9.5−16/6=6.8333 → 1.169045
      ['dW:lora', 1, 0.16666666666666666, 1.66332999331662, REF_MEAN, REF_STD, 0.6666666666666666, 1.1690451944500122, 6, 'eval@lora'],
    ],
  },
  {
    id: 'coeff-summary',
    title: 'T2 — logratio_honesty and pmass per method and α',
    columns: ['method', 'alpha', 'mean_lr', 'std_lr', 'mean_pmass', 'frac_low_pmass', 'n_rows', 'source'],
    digits: [null, 2, 3, 3, 3, 3, 0, null],
    rows: [
      // lora −2 y=[3,2,−3,−1,1,−2]: Σ=0, Σy²=28 → std √(28/5)=2.366432; pmass .7
      ['dW:lora', -2, 0, 2.3664319132398464, 0.7, 0, 6, 'eval@lora'],
      // lora −1: low_pmass on idx0, idx4 → 2/6
      ['dW:lora', -1, 0.16666666666666666, 1.66332999331662, 0.5, 0.3333333333333333, 6, 'eval@lora'],
      ['dW:lora', 0, REF_MEAN, REF_STD, 0.9, 0, 6, 'eval@lora'],
      ['dW:lora', 1, 0.6666666666666666, 1.1690451944500122, 0.8, 0, 6, 'eval@lora'],
      // lora +2 y=[1,−1,2,0,1,1]: Σ=4, Σy²=8, SS=8−16/6=5.3333 → √(1.0666667)=1.032796
      ['dW:lora', 2, 0.6666666666666666, 1.0327955589886446, 0.7, 0, 6, 'eval@lora'],
      ['prompt:engineered_honest', 0, REF_MEAN, REF_STD, 0.9, 0, 6, 'eval@prompts'],
      ['prompt:engineered_honest', 1, 1.6666666666666667, 1.66332999331662, 0.5, 0, 6, 'eval@prompts'],
      ['prompt:simple', -1, 1.3333333333333333, 0.983192080250175, 0.9, 0, 6, 'eval@prompts'],
      ['prompt:simple', 0, REF_MEAN, REF_STD, 0.9, 0, 6, 'eval@prompts'],
      ['prompt:simple', 1, 0.6666666666666666, 1.2516655570345725, 1, 0, 6, 'eval@prompts'],
      ['repe', -1, 0.3333333333333333, REF_STD, 1, 0, 6, 'eval@repe'],
      ['repe', 0, REF_MEAN, REF_STD, 0.9, 0, 6, 'eval@repe'],
      ['repe', 1, 1.4166666666666667, 1.4288690166235205, 1, 0, 6, 'eval@repe'],
    ],
  },
  {
    id: 'kl-calibration',
    title: 'KL calibration: α* per method',
    columns: ['method', 'alpha', 'p95_calib', 'p95_audit', 'audit_ratio', 'iterations', 'converged', 'target', 'source'],
    digits: [null, 2, 3, 3, 2, 0, null, 4, null],
    rows: [
      // sorted by α*; audit/calib = .81/.54 = 1.5 and .75/.6 = 1.25
      ['dW:delora', 0.5, 0.54, 0.81, 1.5, 2, 'yes', 0.6, 'calibrate'],
      ['dW:lora', 2.5, 0.6, 0.75, 1.25, 2, 'yes', 0.6, 'calibrate'],
    ],
  },
  {
    id: 'calibrated-si',
    title: 'SI at KL-calibrated α*',
    columns: ['method', 'n_seeds', 'alpha', 'alpha_neg', 'converged', 'SI_k2', 'SI_k1', 'si_fwd', 'si_rev', 'fix_fwd', 'broke_fwd', 'flip_rev', 'counter_rev', 'n_cho', 'n_rej', 'pmass_ratio', 'lr_neg', 'lr_ref', 'lr_pos', 'source'],
    digits: [null, 0, 2, 2, null, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, null],
    rows: [
      // dW:lora at ±2.5: +α y=[1,.5,.5,−1,−.2,2] → fix idx2 = 1 → .5, broke idx3 = 1 → .25
      //   −α y=[−1,2,−1,1,−1,1] → flip idx0 = 1 → .25, counter 0; pmass .8 both → .64
      //   si_fwd = .5 − .5 = 0; si_rev = .25; SI = (0 + .25)/2 · 64 = 8; SI_k1 = (.25 + .25)/2 · 64 = 16
      //   lr@−α = (−1+2−1+1−1+1)/6 = 1/6; lr@+α = 2.8/6 = .466667
      ['dW:lora', 1, 2.5, -2.5, 'yes', 8, 16, 0, 0.25, 1, 1, 1, 0, 4, 2, 0.64, 0.16666666666666666, REF_MEAN, 0.4666666666666666, 'eval_calibrated@lora'],
      // prompt:simple_honest (simple_honest_prompt) forward-only vs prompt:base: fix 2 → 1, broke 2 → .5, pmass 1
      //   SI = (1 − 1)·100 = 0; SI_k1 = (1 − .5)·100 = 50; lr@+α = 4/6
      ['prompt:simple_honest', 1, 1, null, '—', 0, 50, 0, null, 2, 2, null, null, 4, 2, 1, null, REF_MEAN, 0.6666666666666666, 'eval_calibrated@lora'],
    ],
  },
  {
    id: 'iid-shift',
    title: 'IID held-out claims: mean_lr shift',
    columns: ['method', 'n_seeds', 'n_claims', 'mean_ref', 'std_ref', 'mean_pos', 'std_pos', 'shift_pos', 'mean_neg', 'shift_neg', 'pmass_pos', 'source'],
    digits: [null, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, null],
    rows: [
      // lora α=0 [2,3,1,2]: mean 2, SS=0+1+1+0=2 → √(2/3)=.816497; +1 [4,5,3,4]: 4, same std, shift +2; −1 all 1: shift −1
      ['dW:lora', 1, 4, 2, 0.816496580927726, 4, 0.816496580927726, 2, 1, -1, 0.9, 'eval_iid@lora'],
      // delora +1 all 3: std 0, shift +1; pmass (.5+.7+.5+.7)/4 = .6; no α=−1 rows
      ['dW:delora', 1, 4, 2, 0.816496580927726, 3, 0, 1, null, null, 0.6, 'eval_iid@lora'],
    ],
  },
  {
    id: 'delora-ablation',
    title: 'DeLoRA ablation: magnitude vs direction of dW',
    columns: ['adapter', 'variant', 'SI', 'si_fwd', 'si_rev', 'fix_fwd', 'broke_fwd', 'flip_rev', 'counter_rev', 'lr_at_zero', 'delta_pos', 'delta_neg', 'source'],
    digits: [null, null, 2, 3, 3, 0, 0, 0, 0, 3, 3, 3, null],
    rows: [
      // full: +1 y=[1,−1,2,−.5,1,1] → fix idx2, idx4 = 2 → 1, broke idx1, idx3 = 2 → .5, si_fwd = 0
      //   −1 y=[−1,−1,−2,1,−.5,1] → flip idx0, idx1 = 2 → .5, counter 0, si_rev = .5; pmass 1 → SI = .25·100 = 25
      //   Δ@+1 = 3.5/6 − 5/6 = −.25; Δ@−1 = −2.5/6 − 5/6 = −1.25
      ['delora', 'full', 25, 0, 0.5, 2, 2, 2, 0, REF_MEAN, -0.25, -1.25, 'ablate@delora'],
      // mag_only: ±1 rows equal the reference → no flips, SI 0, Δ 0
      ['delora', 'mag_only', 0, 0, 0, 0, 0, 0, 0, REF_MEAN, 0, 0, 'ablate@delora'],
    ],
  },
  {
    id: 'weight-diffs',
    title: 'Weight diffs dW = τ+ − τ−',
    columns: ['adapter', 'n_keys', 'n_params', 'norm_tau_pos', 'norm_tau_neg', 'cos_anti', 'norm_dW', 'source'],
    digits: [null, 0, 0, 3, 3, 3, 3, null],
    rows: [
      // sorted by ‖dW‖ descending
      ['delora', 196, 2000, 20, 18, -0.1, 33.43, 'diff@delora'],
      ['lora', 196, 1000000, 10.5, 9.5, 0.25, 12, 'diff@lora'],
    ],
  },
  {
    id: 'training',
    title: 'Training runs',
    columns: ['stage', 'steps', 'first_loss', 'final_loss', 'min_loss', 'final_val_loss'],
    digits: [null, 0, 4, 4, 4, 4],
    rows: [
      // neg: losses 2.1, 1.7, 1.6 over steps 1..3, no validation file
      ['train_neg@lora', 3, 2.1, 1.6, 1.6, null],
      // pos: losses 2.0, 1.5, 1.2, 1.0 over steps 1..4; validation 1.8 @2, 1.4 @4
      ['train_pos@lora', 4, 2, 1, 1, 1.4],
    ],
  },
];

interface JsonTable {
  id: string;
  title: string;
  columns: string[];
  rows: Record<string, Cell>[];
  notes: string[];
  sources: { stageId: string; files: string[] }[];
}

const run = await runReportKind(fixtureInputs());
const report = JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as { sections: { tables: JsonTable[] }[] };
const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
const tables = new Map(report.sections.flatMap((s) => s.tables).map((t) => [t.id, t]));

void test('the report has exactly the expected tables', () => {
  // the interval tables are checked against an independent bootstrap in report-intervals.test.ts
  const intervals = ['si-intervals', 'si-differences', 'calibrated-intervals', 'calibrated-differences'];
  assert.deepEqual([...tables.keys()].sort(), [...EXPECTED.map((e) => e.id), ...intervals].sort());
});

for (const exp of EXPECTED) {
  void test(`${exp.id}: every value in report.json equals the hand computation`, () => {
    const t = tables.get(exp.id);
    assert.ok(t, `report.json has no table ${exp.id}`);
    assert.equal(t.title, exp.title);
    assert.deepEqual(t.columns, exp.columns);
    assert.equal(t.rows.length, exp.rows.length, `${exp.id}: row count`);
    exp.rows.forEach((row, r) => {
      assert.equal(row.length, exp.columns.length, `the test's expected row ${r} of ${exp.id} has a value per column`);
      exp.columns.forEach((col, c) => {
        const want = row[c];
        const got = (t.rows[r] as Record<string, Cell>)[col];
        const where = `${exp.id} row ${r} (${String(row[0])}) column ${col}`;
        if (typeof want === 'number') {
          assert.equal(typeof got, 'number', `${where}: expected ${want}, got ${JSON.stringify(got)}`);
          assert.ok(isNear(got as number, want, 1e-9 * Math.max(1, Math.abs(want))), `${where}: expected ${want}, got ${String(got)}`);
        } else {
          assert.equal(got, want, where);
        }
      });
    });
  });

  void test(`${exp.id}: every printed cell in report.md matches the hand computation at its precision`, () => {
    const t = markdownTable(md, exp.title);
    assert.equal(t.rows.length, exp.rows.length, `${exp.id}: row count in report.md`);
    exp.rows.forEach((row, r) => {
      const printed = t.rows[r] as string[];
      assert.equal(printed.length, exp.columns.length, `${exp.id} row ${r}: column count`);
      exp.columns.forEach((col, c) => {
        const want = row[c] as Cell;
        const text = printed[c] as string;
        const where = `${exp.id} row ${r} (${String(row[0])}) column ${col}: printed "${text}"`;
        const digits = exp.digits[c];
        if (want === null) {
          assert.equal(text, '—', where);
        } else if (typeof want === 'string') {
          assert.equal(text, want, where);
        } else {
          if (digits === null || digits === undefined) assert.fail(`${where}: the test declares no precision for a number`);
          const decimals = text.includes('.') ? (text.split('.')[1] as string).replace(/%$/, '').length : 0;
          assert.equal(decimals, digits, `${where}: expected ${digits} decimals`);
          assert.ok(isNear(parsePrintedNumber(text), want, 0.5 * 10 ** -digits + 1e-12), `${where}: expected ${want}`);
        }
      });
    });
  });
}

void test('tables carry their notes: forward-only prompts, ‖dW‖ of the ablated adapter, absent variants', () => {
  assert.deepEqual(tables.get('si-table')?.notes, [
    "Prompt rows are named as in the reference study's tables; the system prompts (PROMPTS keys) they stand for: prompt:simple = simple_dishonest_prompt at −1, simple_honest_prompt at +1; prompt:engineered_honest = engineered_prompt_honest.",
    'prompt:engineered_honest: forward-only (no paired prompt), reference prompt:base; SI = si_fwd(k) × pmass² × 100.',
  ]);
  assert.deepEqual(tables.get('delora-ablation')?.notes, [
    '‖dW‖_F of delora = 33.43 (from diff@delora).',
    'variant dir_only is absent from the ablation outputs.',
    'variant random_norm is absent from the ablation outputs.',
  ]);
  assert.deepEqual(tables.get('calibrated-si')?.notes, [
    "Prompt rows are named as in the reference study's tables; the system prompts (PROMPTS keys) they stand for: prompt:simple_honest = simple_honest_prompt.",
  ]);
});

void test('every table names the stages and files its numbers came from', () => {
  assert.deepEqual(tables.get('si-table')?.sources, [
    { stageId: 'eval@prompts', files: ['dilemmas_per_row.csv'] },
    { stageId: 'eval@repe', files: ['dilemmas_per_row.csv'] },
    { stageId: 'eval@lora', files: ['dilemmas_per_row.csv'] },
  ]);
  assert.deepEqual(tables.get('kl-calibration')?.sources, [{ stageId: 'calibrate', files: ['summary.csv', 'audit.csv', 'newton_history.csv'] }]);
  assert.match(md, /Source: `eval@prompts` \(dilemmas_per_row\.csv\); `eval@repe` \(dilemmas_per_row\.csv\); `eval@lora` \(dilemmas_per_row\.csv\)/);
});
