/**
 * The overall ETA replays the run's schedule: chains take the sum of their stages, independent stages share the
 * -j (cpu) and --accel (accel) slots, running stages hold a slot for what is left of their previous duration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRemaining, type PlannedStage, type RunState } from '../../../src/cli/loggers/estimate-remaining.js';

function stage(id: string, expectedMs: number | undefined, upstream: string[] = [], cls: 'cpu' | 'accel' = 'cpu'): PlannedStage {
  return { id, upstream, class: cls, expectedMs };
}

function fresh(slots: { cpu: number; accel: number }, finished: string[] = [], running: [string, number][] = []): RunState {
  return { finished: new Set(finished), runningMs: new Map(running), slots };
}

void test('a chain takes the sum of its stages whatever -j is', () => {
  const chain = [stage('a', 100), stage('b', 200, ['a']), stage('c', 300, ['b'])];
  for (const cpu of [1, 4, 16]) assert.deepEqual(estimateRemaining(chain, fresh({ cpu, accel: 1 })), { ms: 600, unknown: 0 });
  // done stages are not counted, however long they took
  assert.equal(estimateRemaining(chain, fresh({ cpu: 4, accel: 1 }, ['a'])).ms, 500);
});

void test('independent stages share the -j slots', () => {
  const eight = Array.from({ length: 8 }, (_, i) => stage(`s${i}`, 100));
  assert.equal(estimateRemaining(eight, fresh({ cpu: 1, accel: 1 })).ms, 800);
  assert.equal(estimateRemaining(eight, fresh({ cpu: 3, accel: 1 })).ms, 300);
  assert.equal(estimateRemaining(eight, fresh({ cpu: 4, accel: 1 })).ms, 200);
  assert.equal(estimateRemaining(eight, fresh({ cpu: 8, accel: 1 })).ms, 100);
  assert.equal(estimateRemaining(eight, fresh({ cpu: 32, accel: 1 })).ms, 100, 'more slots than ready stages do not help');
});

void test('accel stages are limited by --accel, cpu stages by -j, each in its own slots', () => {
  // data → six trainings (accel) → six evals (cpu)
  const trains = Array.from({ length: 6 }, (_, i) => stage(`train${i}`, 1000, ['data'], 'accel'));
  const evals = trains.map((t, i) => stage(`eval${i}`, 10, [t.id]));
  const plan = [stage('data', 100), ...trains, ...evals];
  // one at a time on the accelerator: 100 + 6 × 1000, and the last eval after the last training
  assert.equal(estimateRemaining(plan, fresh({ cpu: 8, accel: 1 })).ms, 100 + 6000 + 10);
  assert.equal(estimateRemaining(plan, fresh({ cpu: 8, accel: 2 })).ms, 100 + 3000 + 10);
  // -j does not speed up the accelerator
  assert.equal(estimateRemaining(plan, fresh({ cpu: 1, accel: 1 })).ms, 100 + 6000 + 10);
});

void test('running stages hold their slot for what is left of their previous duration', () => {
  const plan = [stage('a', 100), stage('b', 100), stage('c', 50, ['a'])];
  // a has run 40 of its 100 ms, b waits for the one slot: c starts when a ends at 60, b after it
  assert.equal(estimateRemaining(plan, fresh({ cpu: 1, accel: 1 }, [], [['a', 40]])).ms, 60 + 100 + 50);
  assert.equal(estimateRemaining(plan, fresh({ cpu: 2, accel: 1 }, [], [['a', 40]])).ms, 110);
  // longer than last time: taken to end now
  assert.equal(estimateRemaining(plan, fresh({ cpu: 2, accel: 1 }, [], [['a', 500]])).ms, 100);
});

void test('never-timed stages count as taking no time and are counted', () => {
  const plan = [stage('a', undefined), stage('b', 300, ['a']), stage('c', undefined)];
  assert.deepEqual(estimateRemaining(plan, fresh({ cpu: 2, accel: 1 })), { ms: 300, unknown: 2 });
  assert.deepEqual(estimateRemaining(plan, fresh({ cpu: 2, accel: 1 }, ['a', 'b', 'c'])), { ms: 0, unknown: 0 });
});

void test('a thousand stages are estimated quickly enough to redraw ten times a second', () => {
  const plan = Array.from({ length: 1000 }, (_, i) => stage(`s${i}`, 10 + (i % 7), i >= 10 ? [`s${i - 10}`] : []));
  const t0 = performance.now();
  const e = estimateRemaining(plan, fresh({ cpu: 4, accel: 1 }));
  const ms = performance.now() - t0;
  // ten independent chains of 100 stages on 4 slots: at least the work over 4 slots, at most it one after another
  const work = plan.reduce((n, s) => n + (s.expectedMs ?? 0), 0);
  assert.ok(e.ms >= work / 4 && e.ms <= work, String(e.ms));
  assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
});
