/**
 * `--retries N`: a failed stage runs again up to N times, each attempt its own execution with its own error; the
 * event line says "retry k/N"; Ctrl-C is never retried; a stage that fails every attempt fails as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, countBy } from '../../helpers/rig.js';

const pipeline = (failures: number, sleepMs = 0): string => `
stages:
  base:
    uses: ./kinds/write.js
    with: { text: base }
  flaky:
    uses: ./kinds/flaky.js
    needs: { in: base }
    with: { text: "done", failures: ${failures}, sleepMs: ${sleepMs} }
  after:
    uses: ./kinds/write.js
    needs: { in: flaky }
    with: { text: after }
`;

function executions(rig: Rig, stageId: string): { status: string; error: string | null; run_id: number }[] {
  return rig.withDb(
    (db) => db.prepare(`SELECT status, error, run_id FROM executions WHERE stage_id = ? ORDER BY id`).all(stageId) as { status: string; error: string | null; run_id: number }[],
  );
}

void test('a stage that fails once succeeds on its retry; each attempt is recorded with its error', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline(1) } });
  try {
    const r = await rig.exec(['run', '--retries', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^↻ flaky failed after \S+: Error: flaky flaked on attempt 1; retry 1\/2$/m);
    assert.match(r.stdout, /^▶ flaky {2}retry 1\/2$/m);
    assert.match(r.stdout, /^✓ flaky /m);
    assert.doesNotMatch(r.stdout, /✗ flaky/);
    assert.match(r.stdout, /Done \(run #1, .*\): 3 executed, 1 retry$/m);
    assert.equal(rig.read('out/flaky/result.txt'), 'done');
    assert.deepEqual(
      executions(rig, 'flaky').map((e) => [e.status, e.error?.split('\n')[0] ?? null, e.run_id]),
      [
        ['failed', 'Error: flaky flaked on attempt 1', 1],
        ['succeeded', null, 1],
      ],
    );
    assert.deepEqual([...countBy(rig.invocations())].sort(), [['after', 1], ['base', 1], ['flaky', 2]]);
    const status = await rig.exec(['status']);
    assert.equal(status.code, 0, status.stdout);
  } finally {
    rig.cleanup();
  }
});

void test('a stage failing every attempt fails after N retries; without --retries it is not retried', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline(5) } });
  try {
    const r = await rig.exec(['run', '--retries', '2', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stageId?: string; retry?: { n: number; of: number }; error?: string });
    const flaky = events.filter((e) => e.stageId === 'flaky' && ['stage-start', 'stage-retry', 'stage-failed'].includes(e.type));
    assert.deepEqual(
      flaky.map((e) => [e.type, e.retry ? `${e.retry.n}/${e.retry.of}` : '']),
      [
        ['stage-start', ''],
        ['stage-retry', '1/2'],
        ['stage-start', '1/2'],
        ['stage-retry', '2/2'],
        ['stage-start', '2/2'],
        ['stage-failed', ''],
      ],
    );
    assert.match(flaky.at(-1)?.error ?? '', /flaked on attempt 3/);
    const end = events.find((e) => e.type === 'run-end') as { counts: { failed: number; retries: number; skipped: number } } | undefined;
    assert.deepEqual([end?.counts.failed, end?.counts.retries, end?.counts.skipped], [1, 2, 1]);
    assert.deepEqual(
      executions(rig, 'flaky').map((e) => e.status),
      ['failed', 'failed', 'failed'],
    );
    const status = await rig.exec(['status']);
    assert.match(status.stdout, /^flaky\s+failed\s+← failed in run #1: Error: flaky flaked on attempt 3$/m);

    // no --retries: one attempt
    const once = await rig.exec(['run']);
    assert.equal(once.code, 1);
    assert.doesNotMatch(once.stdout, /retry/);
    assert.equal(executions(rig, 'flaky').length, 4);
  } finally {
    rig.cleanup();
  }
});

void test('an interrupted stage is never retried', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline(0, 20_000) } });
  try {
    const child = rig.spawn(['run', '--retries', '3']);
    await rig.started('flaky');
    process.kill(child.pid ?? 0, 'SIGINT');
    const r = await child.result;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stdout, /■ flaky interrupted/);
    assert.doesNotMatch(r.stdout, /retry/);
    assert.deepEqual(
      executions(rig, 'flaky').map((e) => e.status),
      ['interrupted'],
    );
  } finally {
    rig.cleanup();
  }
});

void test('--retries must be a non-negative integer', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline(0) } });
  try {
    const r = await rig.exec(['run', '--retries', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--retries must be a non-negative integer, got "x"/);
    assert.equal(rig.exists('cache'), false);
  } finally {
    rig.cleanup();
  }
});
