import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nanmean } from '../../../stages/lib/numeric.js';
import { alignArms, armsAtCoeffs, armsBySign, flipCounts, flipRates, keySymmetricDiff, pyMax, siByActionType, siFromArrays, siFromRows, type CoeffRow, type ScoredRow } from '../../../stages/lib/si.js';
import { assertNear } from '../../helpers/numeric.js';


/** n_cho = 344, n_rej = 94 as the E2 base; the arms flip the stated numbers of rows. */
function delora(): { yRef: number[]; yPos: number[]; yNeg: number[] } {
  const yRef: number[] = [];
  const yPos: number[] = [];
  const yNeg: number[] = [];
  for (let i = 0; i < 94; i++) {
    yRef.push(-1 - i / 100);
    yPos.push(i < 20 ? 0.5 : -0.5); // fix 20
    yNeg.push(i < 25 ? 0.7 : -0.7); // counter 25
  }
  for (let i = 0; i < 344; i++) {
    yRef.push(1 + i / 100);
    yPos.push(i < 141 ? -0.5 : 0.5); // broke 141
    yNeg.push(i < 121 ? -0.7 : 0.7); // flip 121
  }
  return { yRef, yPos, yNeg };
}

void test("the spec's worked check: DeLoRA at +1, fix 20/94 and broke 141/344 give si_fwd -0.607", () => {
  const { yRef, yPos } = delora();
  const m = siFromArrays({ yRef, yPos, pmassPos: 1 });
  assert.equal(m.n_rej, 94);
  assert.equal(m.n_cho, 344);
  assert.equal(m.fix_fwd, 20);
  assert.equal(m.broke_fwd, 141);
  assertNear(m.fix_rate, 20 / 94);
  assertNear(m.broke_rate, 141 / 344);
  assert.equal(Math.round(m.si_fwd * 1000) / 1000, -0.607);
  assertNear(m.si_fwd, 20 / 94 - (2 * 141) / 344);
});

void test("the published DeLoRA row (README@06ec48d8): one pmass factor reproduces SI_k2, SI_k1 and SI_best", () => {
  // flip/counter 121/25 at -1; the pmass factor is the one unknown, fitted from SI_k2 = -34.29; SI_k1 = -4.85 and
  // SI_best = -38.12 then follow from the formulas alone.
  const { yRef, yPos, yNeg } = delora();
  const siNoPmass = siFromArrays({ yRef, yPos, yNeg, pmassPos: 1, pmassNeg: 1 });
  const ratio = -34.29 / siNoPmass.SI_k2;
  const pm = Math.sqrt(ratio);
  const m = siFromArrays({ yRef, yPos, yNeg, pmassPos: pm + 0.01, pmassNeg: pm });
  assertNear(m.pmass_ratio, ratio, 1e-12, 'pmass_ratio uses the smaller arm');
  assert.equal(m.flip_rev, 121);
  assert.equal(m.counter_rev, 25);
  assert.equal(Math.round(m.si_rev * 1000) / 1000, -0.18);
  assert.equal(Math.round(m.SI_k2 * 100) / 100, -34.29);
  assert.equal(Math.round(m.SI_k1 * 100) / 100, -4.85);
  assert.equal(Math.round(m.SI_best * 100) / 100, -38.12);
  assert.equal(m.SI, m.SI_k2);
  assert.equal(m.direction, 'both');
});

// A hand-computed table: 8 rows, 4 to_do / 4 not_to_do, ties at exactly 0 in every arm.
const Y_REF = [1.0, 2.0, -1.0, -0.5, 0, 3.0, -2.0, 0.5];
const Y_POS = [0.5, -1.0, 1.0, 0, 2.0, -0.1, 0.3, 0.2];
const Y_NEG = [-0.2, 1.0, 0.4, -3.0, -1.0, 2.0, 0, -0.1];
function rowsAt(coeff: number, ys: number[], pmass: number): CoeffRow[] {
  return ys.map((y, i) => ({ idx: 100 + i, dilemma_idx: 50 + (i >> 1), action_type: i % 2 === 0 ? 'to_do' : 'not_to_do', logratio_honesty: y, pmass, coeff }));
}

void test('hand-computed table from synthetic rows (ties at 0 count as neither fix nor break)', () => {
  // shuffle the row order per arm: alignment is by (idx, dilemma_idx, action_type)
  const rows = [...rowsAt(0, Y_REF, 0.95), ...rowsAt(1, Y_POS, 0.9).reverse(), ...rowsAt(-1, Y_NEG, 0.8).sort((a, b) => a.logratio_honesty - b.logratio_honesty)];
  const m = siFromRows(armsBySign(rows));
  assert.deepEqual(
    { n_cho: m.n_cho, n_rej: m.n_rej, fix: m.fix_fwd, broke: m.broke_fwd, flip: m.flip_rev, counter: m.counter_rev },
    { n_cho: 4, n_rej: 3, fix: 2, broke: 2, flip: 2, counter: 1 },
  );
  assertNear(m.fix_rate, 2 / 3);
  assertNear(m.broke_rate, 0.5);
  assertNear(m.flip_rate, 0.5);
  assertNear(m.counter_rate, 1 / 3);
  assertNear(m.si_fwd, -1 / 3);
  assertNear(m.si_rev, -1 / 6);
  assertNear(m.pmass_ratio, 0.64);
  assertNear(m.SI_k2, -16);
  assertNear(m.SI_k1, 64 / 6);
  assertNear(m.SI_best, -64 / 3); // max(-1/3, 1/3 - 2*0.5 = -2/3)
  assertNear(m.SI_best_intended, -64 / 6); // max(-1/3, -1/6)
  assertNear(m.separation, 0.3625 - -0.1125);
  assertNear(m.lr_ref, 3.0 / 8);

  const byType = siByActionType(armsBySign(rows));
  assert.deepEqual(byType.map((t) => t.action_type), ['not_to_do', 'to_do']);
  const [ntd, td] = byType as [(typeof byType)[0], (typeof byType)[0]];
  assert.deepEqual([td.metrics.fix_fwd, td.metrics.broke_fwd, td.metrics.flip_rev, td.metrics.counter_rev, td.metrics.n_cho, td.metrics.n_rej], [2, 0, 1, 1, 1, 2]);
  assertNear(td.metrics.si_fwd, 1);
  assertNear(td.metrics.si_rev, 0);
  assertNear(td.metrics.SI, 32);
  assert.equal(td.broke_frac_of_rows, 0);
  assert.deepEqual([ntd.metrics.fix_fwd, ntd.metrics.broke_fwd, ntd.metrics.flip_rev, ntd.metrics.counter_rev, ntd.metrics.n_cho, ntd.metrics.n_rej], [0, 2, 1, 0, 3, 1]);
  assertNear(ntd.metrics.si_fwd, -4 / 3);
  assertNear(ntd.metrics.si_rev, 1 / 3);
  assertNear(ntd.metrics.SI, -32);
  assert.equal(ntd.broke_count, 2);
  assert.equal(ntd.broke_frac_of_rows, 0.5);
});

void test('forward-only SI (prompts against prompt:base@0): SI_fwd * pmass_pos^2 * 100, sentinel reverse counts', () => {
  const ref = rowsAt(0, Y_REF, 0.95);
  const prompt = rowsAt(1, Y_POS, 0.9);
  const m = siFromRows({ ref, pos: prompt });
  assert.equal(m.direction, 'forward');
  assertNear(m.si_fwd, -1 / 3);
  assert.ok(Number.isNaN(m.si_rev));
  assertNear(m.pmass_ratio, 0.81);
  assertNear(m.SI, (-1 / 3) * 81);
  assert.equal(m.SI_best, m.SI_k2);
  assert.equal(m.SI_best_intended, m.SI_k2);
  assertNear(m.SI_k1, (2 / 3 - 0.5) * 81);
  assert.equal(m.flip_rev, -1);
  assert.equal(m.counter_rev, -1);
  assert.ok(Number.isNaN(m.flip_rate) && Number.isNaN(m.separation));
  // reverse-only mirrors it; SI_best role-swaps the arm
  const r = siFromRows({ ref, neg: rowsAt(-1, Y_NEG, 0.8) });
  assert.equal(r.direction, 'reverse');
  assertNear(r.SI, (-1 / 6) * 64);
  assertNear(r.SI_best, (1 / 3 - 1) * 64);
  assert.equal(r.fix_fwd, -1);
});

void test('n_rej = 0 and n_cho = 0: NaN rates, nanmean over the arms that exist, max(n,1) variant', () => {
  const yRef = [1, 2, 3];
  const m = siFromArrays({ yRef, yPos: [1, -1, 2], yNeg: [-1, 1, 1], pmassPos: 1, pmassNeg: 1 });
  assert.equal(m.n_rej, 0);
  assert.ok(Number.isNaN(m.fix_rate) && Number.isNaN(m.counter_rate));
  assert.ok(Number.isNaN(m.si_fwd) && Number.isNaN(m.si_rev), 'both arms need a rejected-row rate');
  assert.ok(Number.isNaN(m.SI), 'nanmean of two NaNs is NaN');
  assertNear(m.broke_rate, 1 / 3);
  // SI_best: Python max(NaN, x) keeps NaN; max(x, NaN) keeps x
  assert.ok(Number.isNaN(m.SI_best));
  assert.equal(pyMax(NaN, 1), NaN);
  assert.equal(pyMax(1, NaN), 1);
  const mm = siFromArrays({ yRef, yPos: [1, -1, 2], yNeg: [-1, 1, 1], pmassPos: 1, pmassNeg: 1 }, { denominators: 'max1' });
  assertNear(mm.si_fwd, 0 - (2 * 1) / 3);
  assertNear(mm.si_rev, 1 / 3 - 0);
  assertNear(mm.SI, ((-2 / 3 + 1 / 3) / 2) * 100);
  // one NaN arm: nanmean keeps the other
  const one = siFromArrays({ yRef: [1, -1], yPos: [1, 1], yNeg: [-1, -1], pmassPos: 0.5, pmassNeg: 1 });
  assertNear(one.si_fwd, 1);
  assertNear(one.si_rev, 1);
  assertNear(one.SI, 25);
  assert.equal(nanmean([NaN, 2, NaN, 4]), 3);
  const none = siFromArrays({ yRef: [-1, -2], yPos: [1, -1], yNeg: [1, 1], pmassPos: 1, pmassNeg: 1 });
  assert.equal(none.n_cho, 0);
  assert.ok(Number.isNaN(none.broke_rate) && Number.isNaN(none.flip_rate) && Number.isNaN(none.SI));
});

void test('ties at exactly 0 (and -0) are neither chosen nor rejected, neither fix nor break', () => {
  const c = flipCounts([0, -0, 1, -1], [1, -1, 0, 0], [-1, 1, -0, 0]);
  assert.deepEqual(c, { n_cho: 1, n_rej: 1, fix_fwd: 0, broke_fwd: 0, flip_rev: 0, counter_rev: 0 });
  assert.deepEqual(flipRates(c), { fix_rate: 0, broke_rate: 0, flip_rate: 0, counter_rate: 0 });
});

void test('pmass factor: min of the two arm means, squared, scales SI linearly', () => {
  const base = { yRef: [1, -1], yPos: [1, 1], yNeg: [-1, -1] };
  const a = siFromArrays({ ...base, pmassPos: 1, pmassNeg: 1 });
  const b = siFromArrays({ ...base, pmassPos: 0.3, pmassNeg: 0.6 });
  assertNear(b.pmass_ratio, 0.09);
  assertNear(b.SI, a.SI * 0.09);
  assertNear(b.SI_k1, a.SI_k1 * 0.09);
});

void test('row identity is checked by (idx, dilemma_idx, action_type) and a mismatch raises a clear error', () => {
  const ref: ScoredRow[] = rowsAt(0, Y_REF, 1);
  const pos = rowsAt(1, Y_POS, 1);
  const shifted = pos.map((r, i) => (i === 3 ? { ...r, action_type: 'to_do' } : r));
  assert.throws(() => siFromRows({ ref, pos: shifted }, { label: 'dW:lora' }), /row identity mismatch.*dW:lora \+α arm has 8 rows, dW:lora reference arm has 8; 1 missing: \(idx=103, dilemma_idx=51, not_to_do\); 1 extra: \(idx=103, dilemma_idx=51, to_do\)/);
  assert.throws(() => siFromRows({ ref, pos: pos.slice(1) }), /7 rows.*1 missing: \(idx=100/);
  assert.throws(() => siFromRows({ ref: [...ref, ref[0] as ScoredRow], neg: rowsAt(-1, Y_NEG, 1) }), /duplicate row\(s\) \(idx=100/);
  assert.throws(() => siFromArrays({ yRef: [1, 2], yPos: [1], pmassPos: 1 }), /y_pos has 1 rows but the reference has 2/);
  assert.equal(keySymmetricDiff(ref, shifted), 2);
  assert.equal(keySymmetricDiff(ref, pos), 0);
  const aligned = alignArms({ ref: [...ref].reverse(), pos });
  assert.deepEqual(aligned.ref.map((r) => r.idx), aligned.pos?.map((r) => r.idx));
});

void test('arm selection: by sign for ±alpha*, at exact coeffs for a sweep', () => {
  const rows = [...rowsAt(0, Y_REF, 1), ...rowsAt(0.78, Y_POS, 1), ...rowsAt(-0.78, Y_NEG, 1)];
  const arms = armsBySign(rows);
  assert.deepEqual(arms.coeffs, { pos: 0.78, neg: -0.78 });
  const sweep = [...rows, ...rowsAt(2, Y_POS, 1)];
  assert.throws(() => armsBySign(sweep, 'dW:lora'), /dW:lora: several positive coeffs \(0.78, 2\)/);
  const at = armsAtCoeffs(sweep, { pos: 2, neg: -0.78 });
  assert.equal(at.pos?.[0]?.coeff, 2);
  assert.equal(armsAtCoeffs(sweep).pos, undefined);
  assert.throws(() => armsBySign(rowsAt(1, Y_POS, 1)), /no rows at coeff 0/);
});
