/**
 * State schema 1 → 2 (issue 18, profiles as namespaces): a database written before profiles were namespaces opens
 * with every execution given the profile of its run and every head the profile of its execution; nothing dropped.
 * Real SQLite files in a temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { openStateDb, SCHEMA_VERSION } from '../../src/engine/state/state-db.js';
import { StateStore } from '../../src/engine/state/state-store.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

// the tables of schema 1 that changed, as wsflow wrote them before this migration
const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, argv TEXT NOT NULL, profile TEXT, host TEXT NOT NULL, pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, heartbeat_at INTEGER NOT NULL, status TEXT NOT NULL, summary TEXT);
CREATE TABLE executions (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), stage_id TEXT NOT NULL,
  key TEXT NOT NULL, kind TEXT NOT NULL, kind_version TEXT, kind_fingerprint TEXT, ingredients TEXT NOT NULL,
  status TEXT NOT NULL, output_hash TEXT, output_bytes INTEGER, output_files INTEGER, host TEXT NOT NULL, pid INTEGER,
  executor TEXT NOT NULL, backend TEXT, annotations TEXT NOT NULL DEFAULT '{}', started_at INTEGER NOT NULL,
  ended_at INTEGER, duration_ms INTEGER, error TEXT, log_path TEXT, evicted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX executions_by_key ON executions (key, status);
CREATE INDEX executions_by_stage ON executions (stage_id, id);
CREATE TABLE stage_heads (stage_id TEXT PRIMARY KEY, execution_id INTEGER NOT NULL REFERENCES executions(id),
  out_paths TEXT NOT NULL, materialized_at INTEGER NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO runs VALUES (1, '[]', NULL, 'h', 1, 0, 1, 0, 'succeeded', NULL), (2, '[]', 'smoke', 'h', 1, 2, 3, 2, 'succeeded', NULL);
INSERT INTO executions (id, run_id, stage_id, key, kind, ingredients, status, output_hash, host, executor, started_at)
  VALUES (1, 1, 'train', 'k-real', 'w', '{}', 'succeeded', 'h-real', 'h', 'local', 0),
         (2, 2, 'train', 'k-smoke', 'w', '{}', 'succeeded', 'h-smoke', 'h', 'local', 2),
         (3, 1, 'data', 'k-data', 'w', '{}', 'succeeded', 'h-data', 'h', 'local', 0);
INSERT INTO stage_heads VALUES ('train', 2, '["out/train"]', 3), ('data', 3, '["out/data"]', 1);
`;

void test('schema 1 → 2: executions take their run profile, heads their execution profile; nothing is dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-migrate-'));
  try {
    const path = join(dir, 'state.db');
    const v1 = new Database(path);
    v1.exec(V1);
    v1.close();

    const db = openStateDb(path, { mustExist: true });
    try {
      assert.equal((db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value, String(SCHEMA_VERSION));
      const rows = db.prepare('SELECT id, profile, forced FROM executions ORDER BY id').all();
      assert.deepEqual(rows, [
        { id: 1, profile: '', forced: 0 },
        { id: 2, profile: 'smoke', forced: 0 },
        { id: 3, profile: '', forced: 0 },
      ]);
      const real = new StateStore(db, null);
      const smoke = new StateStore(db, 'smoke');
      assert.equal(smoke.headExecution('train')?.id, 2, "the smoke run's head stays the smoke profile's");
      assert.equal(real.headExecution('train'), undefined, 'the real study has no head for train: its next run restores k-real');
      assert.equal(real.headExecution('data')?.id, 3);
      assert.equal(real.latestSuccessOfStage('train')?.key, 'k-real', "the real study's history is its own");
      assert.equal(smoke.latestSuccessOfStage('train')?.key, 'k-smoke');
      assert.equal(real.latestSuccessByKey('k-smoke' as never)?.id, 2, 'cache hits by key stay shared');
    } finally {
      db.close();
    }
    // opening again is a no-op
    openStateDb(path, { mustExist: true }).close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('schema 2 → 3: the running runs get their own index, which the crash check uses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-migrate-'));
  try {
    const path = join(dir, 'state.db');
    const db = openStateDb(path);
    db.exec(`DROP INDEX runs_running; UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
    db.prepare(`INSERT INTO runs (argv, host, pid, started_at, heartbeat_at, status) VALUES ('[]', 'h', 1, 0, 0, 'running')`).run();
    db.close();

    const reopened = openStateDb(path, { mustExist: true });
    try {
      assert.equal((reopened.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value, '3');
      const plan = reopened.prepare(`EXPLAIN QUERY PLAN SELECT * FROM runs WHERE status = 'running'`).all() as { detail: string }[];
      assert.ok(plan.some((p) => p.detail.includes('runs_running')), JSON.stringify(plan));
      assert.equal(new StateStore(reopened).runningRuns().length, 1);
    } finally {
      reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
