/**
 * The head snapshot (one query for every stage's head, status on a 1000-stage DAG) and what says it still holds:
 * `unchangedSinceHeadSnapshot` is true until another connection commits, whatever this connection writes itself.
 * The no-op run's lock update reuses the run's own assessment only while it is true (src/engine/lock/update-lock.ts).
 * Real SQLite files in a temp dir, two connections as two processes would have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb } from '../../../src/engine/state/state-db.js';
import { StateStore } from '../../../src/engine/state/state-store.js';
import type { KeyIngredients } from '../../../src/engine/keys/key-ingredients.js';
import type { StageKey, TreeHash } from '../../../src/engine/keys/hashing.js';

function recordHead(store: StateStore, stageId: string, key: string): number {
  const runId = store.insertRun({ argv: '[]', profile: null, host: 'h', pid: 1, now: 1 });
  const ing = { format: 'wsflow-key-1', stageId } as unknown as KeyIngredients;
  const id = store.insertExecution({
    runId,
    stageId,
    key: key as StageKey,
    kind: 'cmd',
    kindVersion: null,
    kindFingerprint: null,
    ingredients: ing,
    host: 'h',
    pid: 1,
    executor: 'local',
    now: 1,
    logPath: null,
  });
  store.succeedExecution(id, { outputHash: 'o'.repeat(64) as TreeHash, bytes: 1, files: 1, now: 2, durationMs: 1, backend: null, annotations: {} });
  store.setHead(stageId, id, [`${stageId}.txt`], 2);
  return id;
}

void test('unchangedSinceHeadSnapshot: false before the snapshot, true after it, false once another connection commits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-heads-'));
  const path = join(dir, 'state.db');
  const a = openStateDb(path);
  const b = openStateDb(path, { mustExist: true });
  try {
    const mine = new StateStore(a, null);
    const other = new StateStore(b, null);
    recordHead(other, 'x', 'k1');
    assert.equal(mine.unchangedSinceHeadSnapshot(), false, 'no snapshot read yet');
    assert.equal(mine.headExecution('x')?.key, 'k1');
    assert.equal(mine.unchangedSinceHeadSnapshot(), true);
    // this connection's own writes (a run's record, its stages' heads) leave it true
    recordHead(mine, 'y', 'k2');
    mine.finishRun(1, 'succeeded', {}, 3);
    assert.equal(mine.unchangedSinceHeadSnapshot(), true, "this connection's own commits");
    // a read by another connection changes nothing; its commit does
    assert.equal(other.headExecution('x')?.key, 'k1');
    assert.equal(mine.unchangedSinceHeadSnapshot(), true, "another connection's read");
    recordHead(other, 'x', 'k3');
    assert.equal(mine.unchangedSinceHeadSnapshot(), false, "another connection's commit");
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the head snapshot builds each row from the raw columns: the same row as SELECT *, every column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-heads-'));
  const db = openStateDb(join(dir, 'state.db'));
  try {
    const store = new StateStore(db, null);
    const id = recordHead(store, 'x', 'k1');
    store.setLogPath(id, '/logs/1.log');
    const full = db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as Record<string, unknown>;
    const snap = new StateStore(db, null).headExecution('x') as unknown as Record<string, unknown>;
    assert.deepEqual(snap, full);
    assert.deepEqual(Object.keys(snap).sort(), Object.keys(full).sort(), 'a column the raw row builder does not know');
    assert.deepEqual(store.headExecution('x', true), snap, 'the fresh read (SELECT e.*) agrees');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
