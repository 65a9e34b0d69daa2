/**
 * The no-op run (src/engine/run/noop-run.ts): a run whose stages are all fresh is recorded without the scheduler,
 * and what it records, reports and returns must be what the scheduler gives for the very same run. Both run
 * in-process here against one project built by a real `wsflow run`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { Rig } from '../../helpers/rig.js';
import { loadPipeline } from '../../../src/pipeline/load-pipeline.js';
import { createKindResolver } from '../../../src/pipeline/kind-resolver.js';
import type { Pipeline } from '../../../src/pipeline/types.js';
import { openProjectForReading, openProjectForWriting } from '../../../src/engine/project.js';
import { computeAllStatic } from '../../../src/engine/plan/static-ingredients.js';
import { selectStages } from '../../../src/engine/plan/select-stages.js';
import { runPipeline, type RunResult } from '../../../src/engine/run/run-pipeline.js';
import { assessAllFresh, recordNoopRun } from '../../../src/engine/run/noop-run.js';
import { localExecutorKind } from '../../../src/engine/exec/local-kind.js';
import type { EngineEvent } from '../../../src/engine/events.js';

// a diamond: two roots' worth of fan-out and a join, so that the order of the fresh events is exercised
const DIAMOND = `
stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt && echo b >> b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cat a.txt > c.txt && echo c >> c.txt
    deps: [a.txt]
    outs: [c.txt]
  d:
    cmd: cat b.txt c.txt > d.txt
    deps: [b.txt, c.txt]
    outs: [d.txt]
`;

async function load(rig: Rig): Promise<Pipeline> {
  const loaded = await loadPipeline({ file: rig.path('pipeline.yaml'), resolveKind: createKindResolver(new Map()) });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.error));
  return loaded.value;
}

/** The events without what differs between any two runs (the run's id, its duration). */
function comparable(events: readonly EngineEvent[]): unknown[] {
  return events.map((e) => {
    const { runId: _id, durationMs: _ms, ...rest } = e as EngineEvent & { runId?: unknown; durationMs?: unknown };
    return rest;
  });
}

void test('a no-op run records, reports and returns what the scheduler does for the same run', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': DIAMOND } });
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const pipeline = await load(rig);
    const project = openProjectForWriting(openProjectForReading(pipeline, {}));
    const executor = await localExecutorKind.create(pipeline, { workerEntry: '' });
    try {
      const { ctx } = project;
      const selection = selectStages(pipeline, []);
      assert.ok(selection.ok);
      const order = selection.value.order;
      const statics = computeAllStatic(ctx, order);
      assert.ok(statics.ok);
      const argv = ['run'];

      const bySchedulerEvents: EngineEvent[] = [];
      const byScheduler = await runPipeline({
        ctx,
        statics: statics.value,
        order,
        executor,
        jobs: 2,
        accel: 1,
        keepGoing: false,
        argv,
        emit: (e) => bySchedulerEvents.push(e),
        signal: new AbortController().signal,
      });

      const fresh = assessAllFresh(ctx, statics.value, order);
      assert.ok(fresh, 'every stage is fresh');
      const noopEvents: EngineEvent[] = [];
      const noop = recordNoopRun({ ctx, statics: statics.value, order, fresh, argv, executor: executor.name, jobs: 2, accel: 1, emit: (e) => noopEvents.push(e) });

      assert.deepEqual(comparable(noopEvents), comparable(bySchedulerEvents));
      const sameParts = (r: RunResult) => ({
        status: r.status,
        counts: r.counts,
        outcomes: [...r.outcomes],
        failedKeys: r.failedKeys,
        fresh: [...r.freshStatuses].map(([id, s]) => [id, s.state, s.key, s.outputHash, s.head?.id]),
      });
      assert.deepEqual(sameParts(noop), sameParts(byScheduler));
      assert.equal(noop.counts.fresh, 4);
      assert.notEqual(noop.runId, byScheduler.runId);

      // the run rows: finished, same status, same counts and producers (what run comparison reads)
      const rowOf = (id: number) => {
        const row = ctx.store.getRun(id);
        assert.ok(row);
        return { status: row.status, argv: row.argv, profile: row.profile, ended: row.ended_at !== null, summary: JSON.parse(row.summary ?? 'null') as unknown };
      };
      assert.deepEqual(rowOf(noop.runId), rowOf(byScheduler.runId));
      assert.deepEqual(ctx.store.runningRuns(), []);
    } finally {
      await executor.close();
      project.close();
    }
  } finally {
    rig.cleanup();
  }
});

void test('a stage that is not fresh, or an out changed since, leaves the run to the scheduler', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': DIAMOND } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const check = async (): Promise<boolean> => {
      const pipeline = await load(rig);
      const project = openProjectForReading(pipeline, {});
      try {
        const order = pipeline.order;
        const statics = computeAllStatic(project.ctx, order);
        assert.ok(statics.ok);
        return assessAllFresh(project.ctx, statics.value, order) !== null;
      } finally {
        project.close();
      }
    };
    assert.equal(await check(), true);
    // an out edited by hand: its stage is stale (output modified), so nothing is decided here
    writeFileSync(rig.path('c.txt'), 'edited\n');
    assert.equal(await check(), false);
    // the CLI's run then goes through the scheduler, which reruns c (and d, whose input it restores)
    const again = await rig.exec(['run']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(rig.read('c.txt'), 'a\nc\n');
    assert.equal(await check(), true);
    const noop = await rig.exec(['run']);
    assert.equal(noop.code, 0, noop.stdout + noop.stderr);
    assert.match(noop.stdout, /Everything up to date \(run #\d+, \d+ms\): 4 fresh/);
  } finally {
    rig.cleanup();
  }
});

void test('a no-op run recovers what a killed run left: its row is interrupted, its swap leftovers next to the outs go', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': DIAMOND } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    // a run that died after its last stage was done: its row still 'running', a half-swapped copy next to an out
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    assert.ok(dead);
    const now = Date.now();
    const crashedId = rig.withDb((db) =>
      Number(
        db
          .prepare(`INSERT INTO runs (argv, profile, host, pid, started_at, heartbeat_at, status) VALUES (?, NULL, ?, ?, ?, ?, 'running')`)
          .run('["run"]', hostname(), dead, now, now).lastInsertRowid,
      ),
    );
    const leftover = `.b.txt.wsflow-old-${dead}-0a1b2c`;
    writeFileSync(rig.path(leftover), 'half-swapped\n');

    const noop = await rig.exec(['run']);
    assert.equal(noop.code, 0, noop.stdout + noop.stderr);
    assert.match(noop.stdout, /Everything up to date \(run #\d+, \d+ms\): 4 fresh/);
    const status = rig.withDb((db) => (db.prepare('SELECT status FROM runs WHERE id = ?').get(crashedId) as { status: string }).status);
    assert.equal(status, 'interrupted');
    assert.equal(existsSync(rig.path(leftover)), false, 'the dead run\'s leftover next to b.txt is removed');
    assert.equal(rig.read('b.txt'), 'a\nb\n');
  } finally {
    rig.cleanup();
  }
});
