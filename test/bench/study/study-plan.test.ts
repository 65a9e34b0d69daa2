/** bench/study's projection: each stage scaled by its own count, fixed costs kept once, the adapter matrix. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { COUNT_OF_STAGE, CUT, CUT_COUNTS, FULL_COUNTS, project, projectionMarkdown, sequencesTrained } from '../../../bench/study/study-plan.js';

import { REPO_ROOT } from '../../helpers/repo-root.js';

void test('every stage of the study\'s pipeline.yaml has a work count', () => {
  const yaml = parse(readFileSync(join(REPO_ROOT, 'pipeline.yaml'), 'utf8')) as { stages: Record<string, unknown>; params: { data: Record<string, number>; kl: Record<string, number>; repe: Record<string, number>; iid: Record<string, number> }; matrix: { adapter: string[] } };
  assert.deepEqual(Object.keys(yaml.stages).sort(), Object.keys(COUNT_OF_STAGE).sort());
  // the full counts are pipeline.yaml's
  const d = yaml.params.data;
  assert.equal(FULL_COUNTS.pairs, (d['n_topics'] ?? 0) * (d['n_personas'] ?? 0) * (d['n_samples'] ?? 0));
  assert.equal(FULL_COUNTS.klPrompts, (yaml.params.kl['n_calib'] ?? 0) + (yaml.params.kl['n_audit'] ?? 0));
  assert.equal(FULL_COUNTS.repeTopics, yaml.params.repe['n_train_topics']);
  assert.equal(FULL_COUNTS.heldOut, yaml.params.iid['n_held_out']);
  assert.equal(FULL_COUNTS.adapters, yaml.matrix.adapter.length);
  assert.ok(yaml.matrix.adapter.includes(CUT.adapter));
});

void test('projection: fixed once per instance, the rest times the count ratio, per-adapter stages times 6', () => {
  const p = project([
    { stageId: 'model', seconds: 3 },
    { stageId: 'data@honesty', seconds: 22 },
    { stageId: 'train_pos@honesty-delora-0', seconds: 30, trainSeconds: 20, trainExamples: 10, trainSequencesRun: 8 },
    { stageId: 'eval@honesty-delora-0', seconds: 12 },
    { stageId: 'eval_repe@honesty', seconds: 7 },
  ], 2);
  assert.ok(!('error' in p));
  const by = new Map(p.stages.map((s) => [s.stage, s]));
  assert.equal(by.get('model')?.projectedSeconds, 3);
  const pairs = FULL_COUNTS.pairs / CUT_COUNTS.pairs;
  assert.equal(by.get('data')?.projectedSeconds, 2 + 20 * pairs);
  // train: the full training set is the cut one scaled by the pairs ratio, one epoch
  const trainRatio = (10 * pairs) / 8;
  assert.equal(by.get('train_pos')?.workRatio, trainRatio);
  assert.equal(by.get('train_pos')?.projectedSeconds, 6 * (10 + 20 * trainRatio));
  const rows = FULL_COUNTS.dilemmas / CUT_COUNTS.dilemmas;
  assert.equal(by.get('eval')?.projectedSeconds, 6 * (2 + 10 * rows));
  assert.equal(by.get('eval_repe')?.instanceRatio, 1);
  assert.equal(by.get('eval_repe')?.projectedSeconds, 2 + 5 * rows);
  assert.equal(p.measuredTotal, 3 + 22 + 30 + 12 + 7);
  assert.ok(Math.abs(p.projectedTotal - p.stages.reduce((a, s) => a + s.projectedSeconds, 0)) < 1e-9);
  const md = projectionMarkdown(p);
  assert.match(md, /\| eval \| 1 \| 12\.0 \| 2\.0 \| 109\.5 \| 6 \|/);
  assert.match(md, /\| \*\*total\*\* \| 5 \| 74\.0 \|/);
});

void test('a stage shorter than the fixed cost is not projected below itself; unknown stages are an error', () => {
  const p = project([{ stageId: 'iid_repe@honesty', seconds: 1 }], 5);
  assert.ok(!('error' in p));
  assert.equal(p.stages[0]?.projectedSeconds, 1);
  const bad = project([{ stageId: 'plots', seconds: 1 }], 1);
  assert.ok('error' in bad && /stage plots: no work count/.test(bad.error));
  const noTrain = project([{ stageId: 'train_neg@honesty-delora-0', seconds: 1 }], 1);
  assert.ok('error' in noTrain && /train_seconds or the train summary is missing/.test(noTrain.error));
});

void test('study-bench end to end at the tiny shape on wasm', { skip: process.env['WSFLOW_LONG_TESTS'] === '1' ? false : 'runs the whole cut study (minutes): set WSFLOW_LONG_TESTS=1' }, () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'study', 'study-bench.js'), '--backend', 'wasm', '--shape', 'tiny'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| train_pos \| 1 \|/);
  assert.match(r.stdout, /\| \*\*total\*\* \| \d+ \|/);
  assert.ok(existsSync(join(REPO_ROOT, '.bench-study', 'tiny-wasm', 'result.json')));
});

void test('study-bench: bad flags exit 2 with one line', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'study', 'study-bench.js'), '--backend', 'wasm', '--shape', 'huge'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'study-bench: --shape must be full or tiny, got "huge"');
});

void test('sequencesTrained follows the trainer\'s plan: remainder batches, cycling epochs, gradient accumulation', () => {
  assert.equal(sequencesTrained(7, 4, 1, 2), 7);
  assert.equal(sequencesTrained(7, 4, 1, 3), 11);
  assert.equal(sequencesTrained(10, 4, 1, 2), 8);
  assert.equal(sequencesTrained(900, 4, 4, 57), 900);
  assert.equal(sequencesTrained(10, 4, 4, 1), 10);
});
